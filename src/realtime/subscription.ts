/**
 * One subscription to a channel, the same for every edge (Connect streams, SSE, WebSocket):
 *
 *   1. register live interest with the hub first (so nothing published from now on is missed);
 *   2. send Ready{position};
 *   3. with `since`: replay every stored message after it, oldest first — at most `replayLimit`;
 *      past that, a Gap names what was skipped (the client pages it with List);
 *   4. switch to live, dropping what the replay already sent and anything at or before the
 *      position (de-duplicated by id);
 *   5. heartbeat when idle; stop on abort; end with ResourceExhaustedError when the client reads
 *      too slowly for the bounded queue.
 *
 * Each message is delivered once, in id order for the replay and in bus order (= id order on
 * one node) for live delivery, with no gap between the two.
 */
import { compareIds } from "../domain/ids.js";
import { ResourceExhaustedError } from "../domain/errors.js";
import type { Channel, ChatMessage, MessagePage } from "../domain/model.js";
import { FrameQueue } from "./frame-queue.js";
import { HEARTBEAT_SLACK_MS, HeartbeatTicker } from "./heartbeat-ticker.js";
import type { Hub } from "./hub.js";
import { ReplayedIds } from "./replayed-ids.js";

export type Frame =
  | { readonly kind: "ready"; readonly position: string }
  | { readonly kind: "message"; readonly message: ChatMessage }
  | { readonly kind: "heartbeat"; readonly atMs: number }
  | { readonly kind: "gap"; readonly after: string; readonly before: string };

export interface SubscriptionLimits {
  /** Most stored messages replayed on one stream before a Gap is sent instead. */
  readonly replayLimit: number;
  /** Most messages waiting for a slow client before its stream is ended. */
  readonly queueLimit: number;
  /** Idle time after which a heartbeat frame is sent. */
  readonly heartbeatMs: number;
}

export interface SubscriptionRequest {
  readonly channel: Channel;
  /** Resume after this id; undefined or "" for "from now on". */
  readonly since: string | undefined;
  /** Reads the channel's history, newest first (the store, bound to the channel). */
  readonly history: (page: MessagePage) => Promise<ChatMessage[]>;
  /** Ends the stream; a DomainError as the reason is thrown to the client. */
  readonly signal: AbortSignal;
}

/**
 * Yields the frames of one subscription until the signal aborts or the client falls behind.
 * Per live message and subscriber the hot path is one queue slot and one resumed wait: no
 * timer (heartbeats come from a ticker shared by all streams), no id bookkeeping once the
 * replay is over.
 */
export async function* subscribe(hub: Hub, limits: SubscriptionLimits, request: SubscriptionRequest): AsyncGenerator<Frame> {
  const queue = new FrameQueue(limits.queueLimit);
  const unsubscribe = hub.subscribe(request.channel, { deliver: (message) => void queue.push(message) });
  const onAbort = () => queue.wake();
  request.signal.addEventListener("abort", onAbort);
  const ticker = HeartbeatTicker.for(limits.heartbeatMs);
  ticker.add(queue);
  try {
    const { position, gap, replay } = await startingPoint(request, limits.replayLimit);
    yield { kind: "ready", position };
    if (gap) yield gap;
    for (const message of replay) yield { kind: "message", message };
    // Live messages queued while the replay was read may repeat it; later ones cannot.
    const replayed = replay.length > 0 ? new ReplayedIds(replay.map((m) => m.id)) : undefined;
    while (!request.signal.aborted) {
      if (queue.overflowed) {
        throw new ResourceExhaustedError("subscriber fell too far behind; resume with `since` set to the last message id received");
      }
      const message = queue.shift();
      if (message) {
        if (compareIds(message.id, position) <= 0 || replayed?.has(message.id)) continue;
        yield { kind: "message", message };
        continue;
      }
      const idleSince = Date.now();
      await queue.wait();
      if (queue.size === 0 && !queue.overflowed && !request.signal.aborted && Date.now() - idleSince >= limits.heartbeatMs - HEARTBEAT_SLACK_MS) {
        yield { kind: "heartbeat", atMs: Date.now() };
      }
    }
    const reason: unknown = request.signal.reason;
    if (reason instanceof Error && reason.name !== "AbortError") throw reason;
  } finally {
    ticker.remove(queue);
    request.signal.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}

interface StartingPoint {
  readonly position: string;
  readonly gap: Frame | undefined;
  readonly replay: readonly ChatMessage[];
}

/** Where the stream starts: the resume cursor and its replay, or the channel's newest id. */
async function startingPoint(request: SubscriptionRequest, replayLimit: number): Promise<StartingPoint> {
  if (!request.since) {
    const [newest] = await request.history({ limit: 1 });
    return { position: newest?.id ?? "0", gap: undefined, replay: [] };
  }
  const since = request.since;
  const page = await request.history({ after: since, limit: replayLimit + 1 });
  let gap: Frame | undefined;
  if (page.length > replayLimit) {
    page.length = replayLimit;
    gap = { kind: "gap", after: since, before: page[page.length - 1]!.id };
  }
  return { position: since, gap, replay: page.reverse() };
}
