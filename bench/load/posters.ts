/**
 * Posting load over gRPC (h2c), as users of the run: an open-loop poster that keeps an
 * aggregate rate whatever the server's latency (chat), and closed-loop posters that each post
 * again as soon as the last post was acknowledged (ingest: the highest persisted rate).
 * Every text carries a marker with the send time; the result says what receivers must see.
 */
import { ConnectError } from "@connectrpc/connect";
import { Histogram } from "../histogram.js";
import { markerText, nowUs } from "../marker.js";
import type { PostTarget } from "./clients/client.js";
import { grpcMessages } from "./clients/rpc.js";
import { GrpcPoster } from "./clients/grpc-poster.js";
import type { ChatPostRequest, IngestRequest, LoadUser, PostResult } from "./protocol.js";

const TICK_MS = 5;
const POSTER_CONNECTIONS = 4;

function errorKind(error: unknown): string {
  if (error instanceof ConnectError) return `post_${error.code}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `post_${code}` : "post_error";
}

class Tally {
  attempted = 0;
  ok = 0;
  failed = 0;
  skipped = 0;
  expectedDeliveries = 0;
  expectedChecksum = 0;
  readonly latency = new Histogram();
  readonly errors: Record<string, number> = {};

  fail(error: unknown): void {
    this.failed++;
    const kind = errorKind(error);
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  result(origin: number, elapsedMs: number): PostResult {
    const { attempted, ok, failed, skipped, expectedDeliveries, expectedChecksum, errors } = this;
    return { op: "posted", origin, attempted, ok, failed, skipped, expectedDeliveries, expectedChecksum, postLatency: this.latency.toData(), elapsedMs, errors };
  }
}

/**
 * Posts at `ratePerSecond` for `durationMs` as random users of `users`, then waits for the last
 * answers — over gRPC, or (postVia "ws") over each user's own socket from `ownPost`.
 */
export async function runChatPoster(
  request: ChatPostRequest,
  users: readonly LoadUser[],
  ownPost: ReadonlyMap<string, (target: PostTarget, text: string) => Promise<void>>,
  onPosted: () => void,
): Promise<PostResult> {
  const clients = Array.from({ length: POSTER_CONNECTIONS }, (_, i) =>
    grpcMessages(request.target, request.localAddresses[i % request.localAddresses.length]!),
  );
  const tally = new Tally();
  let inFlight = 0;
  let seq = 0;
  const started = performance.now();
  const all = request.allUserIds;

  const postOne = (): void => {
    const user = users[Math.floor(Math.random() * users.length)]!;
    const client = clients[seq % clients.length]!;
    const mySeq = seq++;
    const sentUs = nowUs();
    const text = markerText(request.origin, mySeq, sentUs, request.textSize);
    const call = { headers: { authorization: `Bearer ${user.token}` }, timeoutMs: 30_000 };
    let fanout: number;
    let done: Promise<unknown>;
    const own = request.postVia === "ws" ? ownPost.get(user.id) : undefined;
    if (request.postVia === "ws" && !own) {
      tally.attempted++;
      tally.fail(Object.assign(new Error("no /ws socket for this user"), { code: "no_socket" }));
      return;
    }
    if (Math.random() < request.dmShare && all.length > 1) {
      let to = user.id;
      while (to === user.id) to = all[Math.floor(Math.random() * all.length)]!;
      fanout = 1;
      done = own ? own({ toUserId: to }, text) : client.sendDirectMessage({ recipient: { case: "recipientUserId", value: to }, text }, call);
    } else {
      fanout = user.roomSize;
      done = own ? own({ roomId: user.roomId ?? "" }, text) : client.postMessage({ roomId: user.roomId ?? "", text }, call);
    }
    tally.attempted++;
    inFlight++;
    done.then(
      () => {
        tally.ok++;
        tally.expectedDeliveries += fanout;
        tally.expectedChecksum += mySeq * fanout;
        tally.latency.record(nowUs() - sentUs);
        onPosted();
      },
      (error: unknown) => tally.fail(error),
    ).finally(() => inFlight--);
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - started, request.durationMs);
      const due = Math.floor((elapsed * request.ratePerSecond) / 1000) - tally.attempted - tally.skipped;
      for (let i = 0; i < due; i++) {
        if (inFlight >= request.maxInFlight) tally.skipped++;
        else postOne();
      }
      if (elapsed >= request.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const elapsedMs = performance.now() - started;
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
  return tally.result(request.origin, elapsedMs);
}

/**
 * One closed-loop poster per user until the deadline; returns what was acknowledged (= persisted).
 * Each poster has its own gRPC connection, through the lean client of grpc-poster.ts: with the
 * general-purpose connect-node client, the load generator spent as much CPU per post as the server.
 */
export async function runIngest(request: IngestRequest, onPosted: () => void): Promise<PostResult> {
  const tally = new Tally();
  const started = performance.now();
  const deadline = started + request.durationMs;
  let seq = 0;
  await Promise.all(
    request.users.map(async (user, i) => {
      const client = new GrpcPoster(request.target, request.localAddresses[i % request.localAddresses.length]!, user.token);
      while (performance.now() < deadline) {
        const sentUs = nowUs();
        const mySeq = seq++;
        tally.attempted++;
        try {
          await client.post(user.roomId ?? "", markerText(request.origin, mySeq, sentUs, request.textSize));
          tally.ok++;
          tally.latency.record(nowUs() - sentUs);
          onPosted();
        } catch (error) {
          tally.fail(error);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      client.close();
    }),
  );
  return tally.result(request.origin, performance.now() - started);
}
