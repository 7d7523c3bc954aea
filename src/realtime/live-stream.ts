/**
 * The frames of one subscription as a hand-written async iterator (see subscription.ts for the
 * algorithm and its guarantees). It is what an async generator would be, minus the generator:
 * a live message reaches a waiting reader by settling its pending next() one microtask after the
 * hub's dispatch — one promise per message and subscriber, no generator resumption, no timer
 * (idle heartbeats come from the hub's shared HeartbeatTicker; the hand-overs of a burst are
 * batched by the hub's HandOverBatch). Messages wait in a bounded UnreadQueue (unread-queue.ts)
 * until read; past its capacity the stream ends with ResourceExhaustedError before anything else
 * is read.
 *
 * Push mode (frame-receiver.ts): a consumer that keeps up registers a receiver instead, and the
 * same batched hand-over calls it with each wanted message — no promise per message. A receiver
 * that cannot take more leaves push mode; what follows stays buffered (same bound) until read.
 *
 * Memory, which is why this is one class: an idle stream is one LiveStream of 18 fields, one
 * pending promise and its resolvers (none when pushed), a set entry in the hub and one in the
 * heartbeat ticker. The stream is its own hub subscriber, ticker idler and hand-over; push mode
 * is two fields (#receiver, #idleSinceMs), not an object; the unread queue exists only while
 * something waits unread or after an overflow (#unread is undefined otherwise). The first
 * message of a burst allocates that queue and nothing else (the former buffer, a base class,
 * allocated a [message] array there); further messages of the same burst share one array. No
 * per-stream closure but the abort listener.
 *
 * Read frames (a direct-message stream's user marked a channel read) travel in the same queue,
 * so a stream sends them in the order the hub dispatched them among its messages; they count
 * toward its bound like messages. They are always wanted (neither the position nor the replay
 * filters them) and never move the position: they are not messages. Typing frames travel the
 * same way, except that a stream skips those of its own user (`request.viewerId`).
 */
import { compareIds } from "../domain/ids.js";
import { ResourceExhaustedError } from "../domain/errors.js";
import type { FrameReceiver, PushableFrames } from "./frame-receiver.js";
import type { HandOver } from "./hand-over-batch.js";
import type { HeartbeatTicker, Idler } from "./heartbeat-ticker.js";
import type { Hub, Subscriber } from "./hub.js";
import { ReplayedIds } from "./replayed-ids.js";
import { type Frame, isSignalFrame, type LiveItem, type SubscriptionLimits, type SubscriptionRequest } from "./stream-contract.js";
import { startingPoint } from "./starting-point.js";
import { UnreadQueue } from "./unread-queue.js";

type Result = IteratorResult<Frame, undefined>;
const DONE: Result = Object.freeze({ done: true, value: undefined });

type Resolve = (result: Result) => void;
type Reject = (error: unknown) => void;

/** One subscription's frames, pulled with next() or pushed to a receiver (see the file header). */
export class LiveStream implements PushableFrames, Idler, Subscriber, HandOver {
  #state: "new" | "starting" | "live" | "ended" = "new";
  #starting: Promise<void> | undefined;
  /** Ready, gap and replayed messages, sent before anything live; undefined once sent. */
  #preamble: Frame[] | undefined;
  #preambleAt = 0;
  #position = "0";
  #replayed: ReplayedIds | undefined;
  /** Live messages (and read frames) not read yet; undefined while none waits, unless the queue overflowed. */
  #unread: UnreadQueue<LiveItem> | undefined;
  #handOverScheduled = false;
  #resolve: Resolve | undefined;
  #reject: Reject | undefined;
  /** The promise of a next() that waits for a message. */
  #pending: Promise<Result> | undefined;
  /** The receiver while in push mode. */
  #receiver: FrameReceiver | undefined;
  #idleSinceMs: number | undefined;
  #onAbort: (() => void) | undefined;
  readonly #ticker: HeartbeatTicker;

  constructor(
    private readonly hub: Hub,
    private readonly limits: SubscriptionLimits,
    private readonly request: SubscriptionRequest,
  ) {
    this.#ticker = hub.heartbeats.for(limits.heartbeatMs);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return(undefined);
  }

  /** Date.now() when the consumer started waiting (pushed, or a pending next()); undefined while busy. */
  get idleSinceMs(): number | undefined {
    return this.#idleSinceMs;
  }

  /** The ticker's call: the reader has waited a whole heartbeat period. */
  wake(): void {
    // Something is buffered or the stream is ending: the scheduled hand-over answers instead.
    if (this.#handOverScheduled || this.#overflowed) return;
    if (this.#receiver) return this.#pushHeartbeat(this.#receiver);
    this.#takeWaiter()?.({ done: false, value: { kind: "heartbeat", atMs: Date.now() } });
  }

  pushTo(receiver: FrameReceiver): boolean {
    if (this.#state !== "live" || this.#preamble !== undefined || this.#pending || this.request.signal.aborted) return false;
    // Not over a receiver, nor over unread messages or an overflow (the queue exists exactly then).
    if (this.#receiver || this.#unread) return false;
    this.#receiver = receiver;
    this.#idleSinceMs = Date.now();
    return true;
  }

  next(): Promise<Result> {
    switch (this.#state) {
      case "ended":
        return Promise.resolve(DONE);
      case "new":
        this.#starting = this.#start();
        return this.#starting.then(() => this.next());
      case "starting":
        return this.#starting!.then(() => this.next());
      case "live":
        // A pushed consumer that pulls leaves push mode.
        if (this.#receiver) this.#leavePush(this.#receiver);
        // A reader that asks again before its last next() settled queues behind it.
        return this.#pending ? this.#pending.then(() => this.next()) : this.#nextLive();
    }
  }

  return(_value?: undefined): Promise<Result> {
    this.#end();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<Result> {
    this.#end();
    return Promise.reject(error);
  }

  /** Registers live interest, then reads where the stream starts (the store read may race posts). */
  async #start(): Promise<void> {
    this.#state = "starting";
    this.hub.subscribe(this.request.channel, this);
    const presence = this.hub.enterRoom(this.request, this);
    // Assigned here, not declared as a class field: a named per-stream closure costs ~250 bytes more.
    this.#onAbort = () => {
      this.#stopPushing();
      this.#settleWaiter();
    };
    this.request.signal.addEventListener("abort", this.#onAbort);
    this.#ticker.add(this);
    try {
      const { position, gap, replay } = await startingPoint(this.request, this.limits.replayLimit, this.hub.recent);
      this.#position = position;
      const preamble: Frame[] = [{ kind: "ready", position, heartbeatMs: this.limits.heartbeatMs }];
      // Taken when the stream registered, so the presence frames queued since follow it exactly.
      if (presence) preamble.push(presence);
      if (gap) preamble.push(gap);
      for (const message of replay) preamble.push({ kind: "message", message });
      this.#preamble = preamble;
      // Live messages buffered while the replay was read may repeat it; later ones cannot.
      if (replay.length > 0) this.#replayed = new ReplayedIds(replay.map((m) => m.id));
      if (this.#state === "starting") this.#state = "live";
      this.#starting = undefined;
    } catch (error) {
      this.#end();
      throw error;
    }
  }

  #nextLive(): Promise<Result> {
    const preamble = this.#preamble;
    if (preamble !== undefined) {
      const frame = preamble[this.#preambleAt++]!;
      if (this.#preambleAt === preamble.length) {
        this.#preamble = undefined;
        this.#preambleAt = 0;
      }
      return Promise.resolve({ done: false, value: frame });
    }
    const ended = this.#endedResult();
    if (ended) return ended;
    const frame = this.#nextWanted();
    if (frame) return Promise.resolve({ done: false, value: frame });
    this.#pending = new Promise<Result>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#idleSinceMs = Date.now();
    });
    return this.#pending;
  }

  /** The result when the stream must end now (overflow, abort), else undefined. */
  #endedResult(): Promise<Result> | undefined {
    if (this.#overflowed) {
      this.#end();
      return Promise.reject(new ResourceExhaustedError("subscriber fell too far behind; resume with `since` set to the last message id received"));
    }
    if (!this.request.signal.aborted) return undefined;
    this.#end();
    const reason: unknown = this.request.signal.reason;
    return reason instanceof Error && reason.name !== "AbortError" ? Promise.reject(reason) : Promise.resolve(DONE);
  }

  /** The hub's call, for every message of the channel (and read or typing frame); never blocks or throws. */
  deliver(item: LiveItem): void {
    if (this.#state === "ended" || this.#overflowed) return;
    if (!(this.#unread ??= new UnreadQueue<LiveItem>()).enqueue(item, this.limits.queueLimit)) {
      this.limits.onOverflow?.();
      return;
    }
    // A waiting reader gets it once the current burst of dispatches is over (a microtask later),
    // so a burst that overflows the queue ends the stream before any of it is handed over.
    if ((this.#resolve || this.#receiver) && !this.#handOverScheduled) {
      this.#handOverScheduled = true;
      this.hub.handOvers.schedule(this);
    }
  }

  /**
   * The hand-over batch's call: settles a waiting next() with the next wanted message, or with
   * the end of the stream (in push mode: pushes what is buffered).
   */
  handOver(): void {
    this.#handOverScheduled = false;
    const ending = this.#overflowed || this.request.signal.aborted;
    if (this.#receiver) return ending ? this.#stopPushing() : this.#pushBuffered(this.#receiver);
    if (!this.#resolve) return;
    if (ending) return this.#settleWaiter();
    const frame = this.#nextWanted();
    if (frame) this.#takeWaiter()!({ done: false, value: frame });
  }

  get #overflowed(): boolean {
    return this.#unread?.overflowed === true;
  }

  /** The frame of the next wanted unread item (the rest are skipped); drops the queue once it is empty. */
  #nextWanted(): Frame | undefined {
    const unread = this.#unread;
    if (unread === undefined) return undefined;
    let frame: Frame | undefined;
    while (frame === undefined) {
      const item = unread.shift();
      if (item === undefined) break;
      frame = this.#wantedFrame(item);
    }
    if (!unread.hasUnread && !unread.overflowed) this.#unread = undefined;
    return frame;
  }

  /**
   * The frame of `item` if the consumer wants it, else undefined: a message after the position
   * and not replayed already; a read frame always (it has no place in the order of ids); a typing
   * frame unless the consumer is the typist.
   */
  #wantedFrame(item: LiveItem): Frame | undefined {
    if (isSignalFrame(item)) return item.kind === "typing" && item.typing.typistId === this.request.viewer?.userId ? undefined : item;
    return compareIds(item.id, this.#position) > 0 && !this.#replayed?.has(item.id) ? { kind: "message", message: item } : undefined;
  }

  /** Pushes every buffered wanted frame while the receiver takes them. */
  #pushBuffered(receiver: FrameReceiver): void {
    for (let frame = this.#nextWanted(); frame; frame = this.#nextWanted()) {
      if (!receiver.push(frame)) return this.#leavePush(receiver);
      // The receiver ended the stream (or pulled) from inside push().
      if (this.#receiver !== receiver) return;
    }
    this.#idleSinceMs = Date.now();
  }

  #pushHeartbeat(receiver: FrameReceiver): void {
    if (!receiver.push({ kind: "heartbeat", atMs: Date.now() })) return this.#leavePush(receiver);
    if (this.#receiver === receiver) this.#idleSinceMs = Date.now();
  }

  /** Leaves push mode, unless `receiver` was replaced already (the consumer pulled and pushed again). */
  #leavePush(receiver: FrameReceiver): void {
    if (this.#receiver !== receiver) return;
    this.#receiver = undefined;
    this.#idleSinceMs = undefined;
  }

  /** Ends push mode because the stream is ending: the consumer pulls to learn how. */
  #stopPushing(): void {
    const receiver = this.#receiver;
    if (!receiver) return;
    this.#leavePush(receiver);
    receiver.pull();
  }

  /** Forgets the waiting next() and returns its resolve (its reject is in #reject until then). */
  #takeWaiter(): Resolve | undefined {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#pending = undefined;
    this.#idleSinceMs = undefined;
    return resolve;
  }

  /** Ends a pending next() with whatever ends the stream (abort, overflow). */
  #settleWaiter(): void {
    const reject = this.#reject;
    const resolve = this.#takeWaiter();
    if (!resolve || !reject) return;
    const ended = this.#endedResult() ?? Promise.resolve(DONE);
    ended.then(resolve, reject);
  }

  /** Unregisters everything; idempotent. A pending next() resolves done. */
  #end(): void {
    if (this.#state === "ended") return;
    const registered = this.#state !== "new";
    this.#state = "ended";
    if (registered) this.hub.leaveRoom(this.request, this);
    this.#ticker.remove(this);
    if (this.#onAbort) this.request.signal.removeEventListener("abort", this.#onAbort);
    this.hub.unsubscribe(this.request.channel, this);
    this.#unread?.clear();
    this.#stopPushing();
    this.#takeWaiter()?.(DONE);
  }
}
