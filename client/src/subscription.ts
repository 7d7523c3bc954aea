/**
 * A lossless subscription to one channel (a room, or the signed-in user's direct messages): the
 * loop every Parley client needs, written once. It keeps one server stream open, resumes it with
 * `since` after any drop, fills `gap`s from the history, drops what it already delivered, and
 * tells the app what state it is in and why.
 */
import type { CallOptions } from "@connectrpc/connect";
import { type BackoffOptions, backoffDelay, wait } from "./backoff.js";
import { type CloseReason, type DisconnectReason, closeReason, ConnectError, disconnectReason, isRetryable, retryAfterMs } from "./errors.js";
import { type PageFn, pagesOldestFirst } from "./gap-fill.js";
import type { Gap, Message, Ready, SubscribeRoomResponse } from "./gen.js";
import { compareIds } from "./ids.js";

/** One frame of SubscribeRoom or SubscribeDirectMessages (the two share the oneof). */
export type StreamFrame = Pick<SubscribeRoomResponse, "frame">;

/** Where a subscription reads from: a stream that resumes after an id, and the history to page gaps from. */
export interface ChannelSource {
  /** Opens the stream of everything after `since` ("" = from now). */
  open(since: string, options: CallOptions): AsyncIterable<StreamFrame>;
  /** One page of the channel's history, newest first. */
  list: (page: Parameters<PageFn>[0], options: CallOptions) => Promise<Message[]>;
}

/** What the subscription is doing, as the app should see it. */
export type SubscriptionState =
  | { readonly status: "connecting" }
  | { readonly status: "live"; readonly position: string }
  | {
      readonly status: "reconnecting";
      readonly reason: DisconnectReason;
      readonly error?: ConnectError;
      /** The wait before the next attempt (Retry-After when the server sent one, else the backoff). */
      readonly retryInMs: number;
      /** Failed attempts since the stream was last live. */
      readonly attempt: number;
    }
  | { readonly status: "closed"; readonly reason: CloseReason; readonly error?: unknown };

/** The app's side of a subscription. */
export interface SubscribeOptions {
  /**
   * Deliver everything after this message id (a saved `position`); "0" = the whole history;
   * omitted or "" = from now on.
   */
  since?: string;
  /**
   * Called once for every message, in the server's order. A returned promise is awaited before the
   * next message (and before `position` moves past this one), so a slow handler slows the stream
   * instead of losing messages. If it throws, the subscription closes with `handler-error`.
   */
  onMessage(message: Message): void | Promise<void>;
  /** Called on every change of state. */
  onState?(state: SubscriptionState): void;
  /**
   * `fill` (default): a gap is paged from the history and delivered in order before the stream
   * goes on. `surface`: `onGap` is called and the messages of the gap are not delivered.
   */
  gaps?: "fill" | "surface";
  /** Called for every gap frame (with `fill`, before it is filled). */
  onGap?(gap: { after: string; before: string }): void;
  /** Stops the subscription, as `close()` does. */
  signal?: AbortSignal;
  /** Messages per List call when filling a gap (default 1000, the most the server allows). */
  gapPageSize?: number;
}

/** A running subscription. */
export interface Subscription {
  /**
   * The id of the last message delivered (or, before any, the position the stream started from):
   * pass it as `since` to resume exactly after it — after a page reload or a process restart.
   * "" until the first stream is open when started without `since`.
   */
  readonly position: string;
  readonly state: SubscriptionState;
  /** Stops for good: no more messages, no reconnects; the state becomes `closed` (`closed`). */
  close(): void;
  /**
   * Starts again from `position` after the subscription closed (e.g. `unauthenticated`, once the
   * app has a new token), or reconnects at once while it waits to reconnect.
   */
  resume(): void;
}

/** What a subscription gets from its client. */
export interface SubscriptionDeps {
  /** The server's heartbeat interval, when it does not announce one. */
  readonly heartbeatIntervalMs: number;
  readonly backoff: BackoffOptions;
  /** Deadline of each List call made to fill a gap. */
  readonly callTimeoutMs: number;
  /** A stream of this client turned live: the server is reachable again. */
  onLive(): void;
  /** A stream went silent for two heartbeats: drop any connection it shares with other calls. */
  onDeadConnection?(): void;
}

/** The stream's own outcome, as opposed to the app's handler failing. */
class HandlerError extends Error {}

/** How one attempt ended. */
type Outcome =
  | { kind: "closed" }
  | { kind: "final"; reason: CloseReason; error: unknown }
  | { kind: "retry"; reason: DisconnectReason; error?: ConnectError; wasLive: boolean };

/** Extra time a heartbeat may take on top of two intervals (network, timers) before the stream is called dead. */
const DEAD_SLACK_MS = 1_000;

/** Starts a subscription; see SubscribeOptions for the guarantees. */
export function subscribe(source: ChannelSource, options: SubscribeOptions, deps: SubscriptionDeps): Subscription {
  return new ResumingSubscription(source, options, deps);
}

class ResumingSubscription implements Subscription {
  #position: string;
  #state: SubscriptionState = { status: "connecting" };
  #stopper = new AbortController();
  #wakeWait: (() => void) | undefined;
  #heartbeatMs: number;

  constructor(
    private readonly source: ChannelSource,
    private readonly options: SubscribeOptions,
    private readonly deps: SubscriptionDeps,
  ) {
    this.#position = options.since ?? "";
    this.#heartbeatMs = deps.heartbeatIntervalMs;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    if (options.signal?.aborted) this.#setState({ status: "closed", reason: "closed" });
    else this.#start();
  }

  get position(): string {
    return this.#position;
  }

  get state(): SubscriptionState {
    return this.#state;
  }

  close(): void {
    this.#stopper.abort();
    if (this.#state.status !== "closed") this.#setState({ status: "closed", reason: "closed" });
  }

  resume(): void {
    if (this.options.signal?.aborted) return;
    if (this.#state.status === "reconnecting") return this.#wakeWait?.();
    if (this.#state.status !== "closed") return;
    // A loop that is still winding down (closed from an onState callback) ends without a word.
    this.#stopper.abort();
    this.#stopper = new AbortController();
    this.#start();
  }

  #start(): void {
    this.#setState({ status: "connecting" });
    void this.#loop(this.#stopper.signal);
  }

  #setState(state: SubscriptionState): void {
    this.#state = state;
    this.options.onState?.(state);
  }

  async #loop(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    const onOnline = (): void => this.#wakeWait?.();
    globalThis.addEventListener?.("online", onOnline);
    try {
      while (!signal.aborted) {
        const outcome = await this.#attempt(signal);
        if (signal.aborted || outcome.kind === "closed") return;
        if (outcome.kind === "final") return this.#setState({ status: "closed", reason: outcome.reason, error: outcome.error });
        if (outcome.wasLive) attempt = 0;
        const asked = outcome.error ? retryAfterMs(outcome.error) : undefined;
        const retryInMs = Math.max(asked ?? 0, backoffDelay(attempt, this.deps.backoff));
        attempt++;
        this.#setState({ status: "reconnecting", reason: outcome.reason, ...(outcome.error ? { error: outcome.error } : {}), retryInMs, attempt });
        const pause = wait(retryInMs, signal);
        this.#wakeWait = pause.wake;
        await pause.done;
        this.#wakeWait = undefined;
      }
    } finally {
      globalThis.removeEventListener?.("online", onOnline);
    }
  }

  /** One stream, from open to its end. Never rejects. */
  async #attempt(signal: AbortSignal): Promise<Outcome> {
    const call = new AbortController();
    const stop = (): void => call.abort();
    signal.addEventListener("abort", stop);
    let wasLive = false;
    let dead = false;
    let silence: ReturnType<typeof setTimeout> | undefined;
    let frames: AsyncIterator<StreamFrame> | undefined;
    try {
      frames = this.source.open(this.#position, { signal: call.signal })[Symbol.asyncIterator]();
      for (;;) {
        // Only the wait for the server counts as silence, not the app's handling of a message.
        silence = setTimeout(() => {
          dead = true;
          call.abort();
        }, 2 * this.#heartbeatMs + DEAD_SLACK_MS);
        const next = await frames.next();
        clearTimeout(silence);
        if (next.done) return { kind: "retry", reason: "ended", wasLive };
        const { frame } = next.value;
        switch (frame.case) {
          case "ready":
            wasLive = true;
            this.#onReady(frame.value);
            break;
          case "message":
            await this.#deliver(frame.value);
            break;
          case "gap":
            await this.#onGap(frame.value, call.signal);
            break;
        }
      }
    } catch (err) {
      if (signal.aborted) return { kind: "closed" };
      if (err instanceof HandlerError) return { kind: "final", reason: "handler-error", error: err.cause };
      if (dead) {
        this.deps.onDeadConnection?.();
        return { kind: "retry", reason: "dead-connection", wasLive };
      }
      const error = ConnectError.from(err);
      if (!isRetryable(error)) return { kind: "final", reason: closeReason(error), error };
      return { kind: "retry", reason: disconnectReason(error, wasLive), error, wasLive };
    } finally {
      clearTimeout(silence);
      signal.removeEventListener("abort", stop);
      call.abort();
      // Release the stream's resources (not awaited: a stream that is already failing may never settle).
      void frames?.return?.()?.catch(() => undefined);
    }
  }

  #onReady(ready: Ready): void {
    // Without `since` the stream starts at the server's newest id; with it, Ready repeats it.
    if (this.#position === "") this.#position = ready.position;
    const announced = announcedHeartbeatMs(ready);
    if (announced !== undefined) this.#heartbeatMs = announced;
    this.#setState({ status: "live", position: this.#position });
    this.deps.onLive();
  }

  /** Hands one message to the app unless it was delivered already; ids only grow. */
  async #deliver(message: Message): Promise<void> {
    if (compareIds(message.messageId, this.#position) <= 0) return;
    try {
      await this.options.onMessage(message);
    } catch (err) {
      throw new HandlerError("onMessage threw", { cause: err });
    }
    this.#position = message.messageId;
  }

  async #onGap(gap: Gap, signal: AbortSignal): Promise<void> {
    this.options.onGap?.({ after: gap.after, before: gap.before });
    if (this.options.gaps === "surface") return;
    // What was delivered is not asked for again: start from the later of `after` and the position.
    const after = compareIds(gap.after, this.#position) >= 0 ? gap.after : this.#position;
    const page: PageFn = (req) => this.source.list(req, { signal, timeoutMs: this.deps.callTimeoutMs });
    const pageSize = this.options.gapPageSize ?? 1000;
    for await (const messages of pagesOldestFirst(page, after, gap.before, { pageSize })) {
      for (const message of messages) await this.#deliver(message);
    }
  }
}

/**
 * The heartbeat interval the server announces in Ready, if it does. The proto has no such field
 * yet (see the report on issue #15: `google.protobuf.Duration heartbeat_interval = 2` on Ready);
 * until it does, this reads nothing and the client's `heartbeatIntervalMs` applies.
 */
function announcedHeartbeatMs(ready: Ready): number | undefined {
  const interval = (ready as Ready & { heartbeatInterval?: { seconds: bigint; nanos: number } }).heartbeatInterval;
  if (!interval) return undefined;
  const ms = Number(interval.seconds) * 1000 + Math.floor(interval.nanos / 1e6);
  return ms > 0 ? ms : undefined;
}
