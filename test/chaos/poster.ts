/**
 * A chaos poster: one user posting at a steady rate (open loop: a slow answer does not slow the
 * next post, up to a bound of posts in flight) to rooms and direct-message inboxes, each post with
 * its own client_message_id. A post whose answer failed or never came is retried with the same
 * client_message_id and text — on the other node when its node is dead — a bounded number of
 * times. Every attempt is recorded (node, start, end, outcome), and the answer of the one that
 * succeeded (the acknowledged message: id, created_at).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Rng } from "../support/fuzz-random.js";
import { chatClients, type ChatClients, type Protocol } from "../support/clients.js";
import { other, type NodeName, type Nodes } from "./nodes.js";
import { pause, type Progress } from "./progress.js";

/** Longest a client waits for one answer before it gives up on it and retries. */
export const ATTEMPT_TIMEOUT_MS = 15_000;
/** Attempts of one post, at most (and no new attempt a minute after the first). */
const MAX_ATTEMPTS = 8;
const RETRY_FOR_MS = 60_000;
/** Answers that a retry cannot change: the client stops. */
const FINAL = new Set([Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.PermissionDenied]);

export type PostChannel =
  | { readonly key: string; readonly kind: "room"; readonly roomId: string }
  | { readonly key: string; readonly kind: "dm"; readonly recipientUserId: string };

export interface Attempt {
  readonly node: NodeName;
  readonly startedAt: number;
  readonly endedAt: number;
  /** "ok", "timeout" (no answer within ATTEMPT_TIMEOUT_MS), "node-died", or the error's code name. */
  readonly outcome: string;
}

export interface PostRecord {
  readonly clientMessageId: string;
  readonly channel: string;
  readonly firstSentAt: number;
  readonly attempts: Attempt[];
  acked?: { readonly id: string; readonly at: number; readonly node: NodeName; readonly createdAtMs: number; readonly sentAt: number };
}

export interface PosterSpec {
  readonly name: string;
  readonly token: string;
  readonly home: NodeName;
  readonly protocol: Protocol;
  readonly perSecond: number;
  readonly maxInFlight: number;
  readonly channels: readonly PostChannel[];
}

export class Poster {
  readonly records: PostRecord[] = [];
  /** Post slots skipped because maxInFlight posts were waiting for answers. */
  skipped = 0;
  readonly #spec: PosterSpec;
  readonly #nodes: Nodes;
  readonly #progress: Progress;
  readonly #rng: Rng;
  readonly #clients = new Map<NodeName, ChatClients>();
  #node: NodeName;
  #inFlight = 0;

  constructor(spec: PosterSpec, nodes: Nodes, progress: Progress, rng: Rng) {
    this.#spec = spec;
    this.#nodes = nodes;
    this.#progress = progress;
    this.#rng = rng;
    this.#node = spec.home;
  }

  /** Posts until `stopAt` (epoch ms), then waits for the answers (and retries) of what it posted. */
  async run(stopAt: number): Promise<void> {
    const posts: Promise<void>[] = [];
    const interval = 1000 / this.#spec.perSecond;
    for (let n = 0, next = Date.now(); next < stopAt; n++, next += interval) {
      await pause(next - Date.now());
      const channel = this.#rng.pick(this.#spec.channels);
      if (this.#inFlight >= this.#spec.maxInFlight) {
        this.skipped++;
        continue;
      }
      posts.push(this.#post(`${this.#spec.name}-${n}`, channel));
    }
    await Promise.all(posts);
  }

  async #post(clientMessageId: string, channel: PostChannel): Promise<void> {
    const record: PostRecord = { clientMessageId, channel: channel.key, firstSentAt: Date.now(), attempts: [] };
    this.records.push(record);
    this.#inFlight++;
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS && Date.now() - record.firstSentAt < RETRY_FOR_MS; attempt++) {
        if (attempt > 0) await pause(Math.min(2000, 250 * attempt) + this.#rng.int(250));
        if (!this.#nodes.alive(this.#node)) this.#node = other(this.#node);
        const node = this.#node;
        const { outcome, code } = await this.#attempt(record, node, channel);
        if (outcome === "ok" || (code !== undefined && FINAL.has(code))) return;
      }
    } finally {
      this.#inFlight--;
      this.#progress.notify();
    }
  }

  async #attempt(record: PostRecord, node: NodeName, channel: PostChannel): Promise<{ outcome: string; code?: Code }> {
    const messages = this.#client(node).messages;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, ATTEMPT_TIMEOUT_MS);
    const startedAt = Date.now();
    const text = `chaos ${record.clientMessageId}`;
    const call = { signal: controller.signal };
    try {
      const message =
        channel.kind === "room"
          ? (await messages.postMessage({ roomId: channel.roomId, text, clientMessageId: record.clientMessageId }, call)).message
          : (await messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: channel.recipientUserId }, text, clientMessageId: record.clientMessageId }, call)).message;
      const at = Date.now();
      record.attempts.push({ node, startedAt, endedAt: at, outcome: "ok" });
      record.acked = { id: message!.messageId, at, node, createdAtMs: message!.createdAt ? timestampMs(message!.createdAt) : 0, sentAt: startedAt };
      return { outcome: "ok" };
    } catch (error) {
      const code = ConnectError.from(error).code;
      const outcome = timedOut ? "timeout" : !this.#nodes.alive(node) ? "node-died" : Code[code].toLowerCase();
      record.attempts.push({ node, startedAt, endedAt: Date.now(), outcome });
      return { outcome, code };
    } finally {
      clearTimeout(timer);
    }
  }

  #client(node: NodeName): ChatClients {
    let clients = this.#clients.get(node);
    if (!clients) this.#clients.set(node, (clients = chatClients(this.#nodes.url(node), this.#spec.token, this.#spec.protocol)));
    return clients;
  }
}
