/**
 * The state machine behind pumpFrames/runPump (stream-pump.ts): send a frame, wait until sent,
 * read the next, wait for it — or, while sends complete at once, be pushed each frame by the
 * stream (frame-receiver.ts): no promise per message. When the sink reports backpressure (a
 * promise), the pump reads with next() until the stream has nothing buffered, then is pushed to
 * again.
 */
import { UnauthenticatedError } from "../../domain/errors.js";
import { type FrameReceiver, isPushable, type PushableFrames } from "../../realtime/frame-receiver.js";
import type { Frame } from "../../realtime/stream-contract.js";
import { logStreamEnd, type PumpObserver, tooSlow } from "./stream-end-log.js";
import type { OpenStream } from "./stream-open.js";

/** Where runPump sends a stream's frames and reports its end: one object per stream, no closures. */
export interface FrameSink {
  /** Sends one frame: true when taken at once; a promise of false when the client did not keep up (see SendFrame). */
  trySend(frame: Frame): boolean | Promise<boolean>;
  /** Called once, with what ended the stream (what pumpFrames resolves with). */
  ended(ended: unknown): void;
}

/**
 * The loop of pumpFrames as a state machine: send a frame, wait until sent, read the next, wait
 * for it — or, while sends complete at once, be pushed each frame by the stream. Calls the
 * sink's ended() exactly once, after closing the stream and logging its end.
 */
export class FramePump implements FrameReceiver {
  readonly #started = performance.now();
  #delivered = 0;
  /** The frame being sent, until it is. */
  #sending: Frame | undefined;
  #ended = false;
  // One continuation of each kind per pump, reused for every frame (assigned, not class fields:
  // a named per-stream closure costs ~250 bytes more).
  readonly #onSent: (sent: boolean) => void;
  readonly #onNext: (result: IteratorResult<Frame>) => void;
  readonly #onError: (error: unknown) => void;
  /** The stream's frames when they can be pushed. */
  readonly #pushable: PushableFrames | undefined;

  constructor(
    private readonly stream: OpenStream,
    private readonly sink: FrameSink,
    private readonly observer: PumpObserver,
  ) {
    this.#onSent = (sent) => this.#sent(sent);
    this.#onNext = (result) => this.#received(result);
    this.#onError = (error) => this.#finish(error);
    this.#pushable = isPushable(stream.frames) ? stream.frames : undefined;
  }

  /** Sends the stream's Ready frame, then pumps until the stream ends. Call once. */
  start(): void {
    this.#sendFrame(this.stream.ready);
  }

  /** The stream's call in push mode: sends the frame; true while sends complete at once. */
  push(frame: Frame): boolean {
    if (this.#ended) return false;
    this.#sending = frame;
    let sent: boolean | Promise<boolean>;
    try {
      sent = this.sink.trySend(frame);
    } catch (error) {
      this.#finish(error);
      return false;
    }
    if (sent !== true) {
      // Backpressure (or too slow): wait for it, then read with next() until caught up.
      if (sent === false) this.#sent(false);
      else sent.then(this.#onSent, this.#onError);
      return false;
    }
    this.#counted();
    return true;
  }

  /** The stream's call when push mode ends because it is ending: next() says how. */
  pull(): void {
    if (!this.#ended) this.#read();
  }

  #sendFrame(frame: Frame): void {
    this.#sending = frame;
    let sent: boolean | Promise<boolean>;
    try {
      sent = this.sink.trySend(frame);
    } catch (error) {
      return this.#finish(error);
    }
    if (typeof sent === "boolean") this.#sent(sent);
    else sent.then(this.#onSent, this.#onError);
  }

  #counted(): void {
    if (this.#sending?.kind === "message") {
      this.#delivered++;
      this.observer.metrics.messagesDelivered.inc();
    }
    this.#sending = undefined;
  }

  #sent(sent: boolean): void {
    if (!sent) return this.#finish(tooSlow(this.observer.metrics));
    this.#counted();
    if (this.#ended) return;
    // Caught up: be pushed the next frames, unless some are waiting to be read.
    if (this.#pushable?.pushTo(this)) return;
    this.#read();
  }

  #read(): void {
    let next: Promise<IteratorResult<Frame>>;
    try {
      next = this.stream.frames.next();
    } catch (error) {
      return this.#finish(error);
    }
    next.then(this.#onNext, this.#onError);
  }

  #received(result: IteratorResult<Frame>): void {
    if (!result.done) return this.#sendFrame(result.value);
    const reason: unknown = this.stream.signal.reason;
    this.#finish(reason instanceof UnauthenticatedError ? reason : undefined);
  }

  #finish(ended: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sending = undefined;
    this.stream.close();
    logStreamEnd(this.stream, this.observer, ended, this.#delivered, this.#started);
    this.sink.ended(ended);
  }
}
