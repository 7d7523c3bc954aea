/**
 * The frames of one subscription as a hand-written async iterator (see subscription.ts for the
 * algorithm and its guarantees). It is what an async generator would be, minus the generator:
 * a live message reaches a waiting reader by settling its pending next() one microtask after the
 * hub's dispatch — one promise per message and subscriber, no generator resumption, no timer
 * (idle heartbeats come from the hub's shared HeartbeatTicker; the hand-overs of a burst are
 * batched by the hub's HandOverBatch). Messages wait in a bounded buffer (message-buffer.ts) until read;
 * past its capacity the stream ends with ResourceExhaustedError before anything else is read.
 *
 * Push mode (frame-receiver.ts, push-mode.ts): a consumer that keeps up registers a receiver
 * instead, and the same batched hand-over calls it with each wanted message — no promise per
 * message. A receiver that cannot take more leaves push mode; what follows stays buffered (same
 * bound) until read.
 *
 * Memory: an idle stream is one LiveStream, one pending promise and its resolvers (none when
 * pushed), a set entry in the hub and one in the heartbeat ticker. The stream is its own hub
 * subscriber, and its buffer and push mode are its base classes, not objects of their own;
 * buffers are allocated when something is buffered; no per-stream closure but the abort listener.
 */
import { compareIds } from "../domain/ids.js";
import { ResourceExhaustedError } from "../domain/errors.js";
import type { ChatMessage } from "../domain/model.js";
import type { FrameReceiver, PushableFrames } from "./frame-receiver.js";
import type { HandOver } from "./hand-over-batch.js";
import type { HeartbeatTicker, Idler } from "./heartbeat-ticker.js";
import type { Hub, Subscriber } from "./hub.js";
import { PushMode } from "./push-mode.js";
import { ReplayedIds } from "./replayed-ids.js";
import type { Frame, SubscriptionLimits, SubscriptionRequest } from "./stream-contract.js";
import { startingPoint } from "./starting-point.js";

type Result = IteratorResult<Frame, undefined>;
const DONE: Result = Object.freeze({ done: true, value: undefined });

type Resolve = (result: Result) => void;
type Reject = (error: unknown) => void;

export class LiveStream extends PushMode implements PushableFrames, Idler, Subscriber, HandOver {
  #state: "new" | "starting" | "live" | "ended" = "new";
  #starting: Promise<void> | undefined;
  /** Ready, gap and replayed messages, sent before anything live; undefined once sent. */
  #preamble: Frame[] | undefined;
  #preambleAt = 0;
  #position = "0";
  #replayed: ReplayedIds | undefined;
  #handOverScheduled = false;
  #resolve: Resolve | undefined;
  #reject: Reject | undefined;
  /** The promise of a next() that waits for a message. */
  #pending: Promise<Result> | undefined;
  #onAbort: (() => void) | undefined;
  readonly #ticker: HeartbeatTicker;

  constructor(
    private readonly hub: Hub,
    private readonly limits: SubscriptionLimits,
    private readonly request: SubscriptionRequest,
  ) {
    super();
    this.#ticker = hub.heartbeats.for(limits.heartbeatMs);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return(undefined);
  }

  /** The ticker's call: the reader has waited a whole heartbeat period. */
  wake(): void {
    // Something is buffered or the stream is ending: the scheduled hand-over answers instead.
    if (this.#handOverScheduled || this.overflowed) return;
    if (this.pushing) return this.pushHeartbeat();
    this.#takeWaiter()?.({ done: false, value: { kind: "heartbeat", atMs: Date.now() } });
  }

  pushTo(receiver: FrameReceiver): boolean {
    if (this.#state !== "live" || this.#preamble !== undefined || this.#pending || this.request.signal.aborted) return false;
    return this.enterPush(receiver);
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
        if (this.pushing) this.leavePush();
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
    // Assigned here, not declared as a class field: a named per-stream closure costs ~250 bytes more.
    this.#onAbort = () => {
      this.stopPushing();
      this.#settleWaiter();
    };
    this.request.signal.addEventListener("abort", this.#onAbort);
    this.#ticker.add(this);
    try {
      const { position, gap, replay } = await startingPoint(this.request, this.limits.replayLimit, this.hub.recent);
      this.#position = position;
      const preamble: Frame[] = [{ kind: "ready", position, heartbeatMs: this.limits.heartbeatMs }];
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
    for (let message = this.shift(); message; message = this.shift()) {
      if (this.wanted(message)) return Promise.resolve({ done: false, value: { kind: "message", message } });
    }
    this.#pending = new Promise<Result>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.waiting(true);
    });
    return this.#pending;
  }

  /** The result when the stream must end now (overflow, abort), else undefined. */
  #endedResult(): Promise<Result> | undefined {
    if (this.overflowed) {
      this.#end();
      return Promise.reject(new ResourceExhaustedError("subscriber fell too far behind; resume with `since` set to the last message id received"));
    }
    if (!this.request.signal.aborted) return undefined;
    this.#end();
    const reason: unknown = this.request.signal.reason;
    return reason instanceof Error && reason.name !== "AbortError" ? Promise.reject(reason) : Promise.resolve(DONE);
  }

  /** The hub's call, for every message of the channel; never blocks or throws. */
  deliver(message: ChatMessage): void {
    if (this.#state === "ended" || this.overflowed) return;
    if (!this.enqueue(message, this.limits.queueLimit)) {
      this.limits.onOverflow?.();
      return;
    }
    // A waiting reader gets it once the current burst of dispatches is over (a microtask later),
    // so a burst that overflows the buffer ends the stream before any of it is handed over.
    if ((this.#resolve || this.pushing) && !this.#handOverScheduled) {
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
    if (this.pushing) return this.overflowed || this.request.signal.aborted ? this.stopPushing() : this.pushBuffered();
    if (!this.#resolve) return;
    if (this.overflowed || this.request.signal.aborted) return this.#settleWaiter();
    for (let message = this.shift(); message; message = this.shift()) {
      if (this.wanted(message)) {
        this.#takeWaiter()!({ done: false, value: { kind: "message", message } });
        return;
      }
    }
  }

  protected wanted(message: ChatMessage): boolean {
    return compareIds(message.id, this.#position) > 0 && !this.#replayed?.has(message.id);
  }

  /** Forgets the waiting next() and returns its resolve (its reject is in #reject until then). */
  #takeWaiter(): Resolve | undefined {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#pending = undefined;
    this.waiting(false);
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
    this.#state = "ended";
    this.#ticker.remove(this);
    if (this.#onAbort) this.request.signal.removeEventListener("abort", this.#onAbort);
    this.hub.unsubscribe(this.request.channel, this);
    this.clearBuffer();
    this.stopPushing();
    this.#takeWaiter()?.(DONE);
  }
}
