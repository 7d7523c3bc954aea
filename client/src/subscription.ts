/**
 * A lossless subscription to one channel (a room, or the signed-in user's direct messages): the
 * loop every Parley client needs, written once. It keeps one server stream open, resumes it with
 * `since` after any drop, fills `gap`s from the history, drops what it already delivered, and
 * tells the app what state it is in and why. A direct-message stream's `read` frames (my read
 * states, live only) go to `onRead`, a room stream's `presence` frames to `onPresence`, and
 * either stream's `typing` frames to `onTyping`; none touches the position or the de-duplication. The same loop keeps the room list (WatchRooms):
 * its `created` frames go to `onRoom`, never de-duplicated by position (the server replays a grace
 * window before it on resume, for clock skew between nodes), and move the position to the newest
 * room id seen.
 */
import { backoffDelay, wait } from "./backoff.js";
import { type CloseReason, type DisconnectReason, closeReason, ConnectError, disconnectReason, isRetryable, retryAfterMs } from "./errors.js";
import { type PageFn, pagesOldestFirst } from "./gap-fill.js";
import type { Gap, Message, Presence, ReadState, Ready, Room, Typing } from "./gen.js";
import { compareIds } from "./ids.js";
import type {
  ChannelSource,
  DirectSubscribeOptions,
  RoomSubscribeOptions,
  SourceOptions,
  StreamFrame,
  SubscribeOptions,
  Subscription,
  SubscriptionDeps,
  SubscriptionState,
} from "./subscription-types.js";

export type { ChannelSource, DirectSubscribeOptions, RoomSubscribeOptions, StreamFrame, SubscribeOptions, Subscription, SubscriptionDeps, SubscriptionState };

/** The options of either kind of subscription (a stream carries the frames of its kind only). */
type AnySubscribeOptions = SourceOptions;

/** The stream's own outcome, as opposed to the app's handler failing. */
class HandlerError extends Error {}

/** How one attempt ended. */
type Outcome =
  | { kind: "closed" }
  | { kind: "final"; reason: CloseReason; error: unknown }
  | { kind: "retry"; reason: DisconnectReason; error?: ConnectError; wasLive: boolean };

/** Extra time a heartbeat may take on top of two intervals (network, timers) before the stream is called dead. */
const DEAD_SLACK_MS = 1_000;

/** Starts a subscription; see SubscribeOptions for the guarantees (a room's stream has no read frames, a direct one no presence). */
export function subscribe(source: ChannelSource, options: AnySubscribeOptions, deps: SubscriptionDeps): Subscription {
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
    private readonly options: AnySubscribeOptions,
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
    // close() is for good; other closes wait for the app (a new token, a fixed handler).
    if (this.#state.status !== "closed" || this.#state.reason === "closed") return;
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
    try {
      this.options.onState?.(state);
    } catch (err) {
      // The app's bug must not stop the loop: report it as an uncaught error, outside it.
      queueMicrotask(() => {
        throw err;
      });
    }
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
          case "read":
            await this.#onRead(frame.value);
            break;
          case "typing":
            await this.#onTyping(frame.value);
            break;
          case "created":
            await this.#onRoom(frame.value);
            break;
          case "presence":
            await this.#onPresence(frame.value);
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

  /** Hands my new read state of a channel to the app; not a message: position and de-duplication stay as they are. */
  async #onRead(state: ReadState): Promise<void> {
    try {
      await this.options.onRead?.(state);
    } catch (err) {
      throw new HandlerError("onRead threw", { cause: err });
    }
  }

  /** Hands someone's typing to the app; not a message: position and de-duplication stay as they are. */
  async #onTyping(typing: Typing): Promise<void> {
    try {
      await this.options.onTyping?.(typing);
    } catch (err) {
      throw new HandlerError("onTyping threw", { cause: err });
    }
  }

  /** Hands a room of the room list to the app, repeats included (they are by design: see the header). */
  async #onRoom(room: Room): Promise<void> {
    try {
      await this.options.onRoom?.(room);
    } catch (err) {
      throw new HandlerError("onRoom threw", { cause: err });
    }
    if (compareIds(room.roomId, this.#position) > 0) this.#position = room.roomId;
  }

  /** Hands who has the room open to the app; not a message: position and de-duplication stay as they are. */
  async #onPresence(presence: Presence): Promise<void> {
    try {
      await this.options.onPresence?.(presence);
    } catch (err) {
      throw new HandlerError("onPresence threw", { cause: err });
    }
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
 * The heartbeat interval the server announces in Ready (`heartbeat_interval`); a server from
 * before it announced nothing, and then the client's `heartbeatIntervalMs` applies.
 */
function announcedHeartbeatMs(ready: Ready): number | undefined {
  const interval = ready.heartbeatInterval;
  if (!interval) return undefined;
  const ms = Number(interval.seconds) * 1000 + Math.floor(interval.nanos / 1e6);
  return ms > 0 ? ms : undefined;
}
