/**
 * The one loop that moves a subscription's frames onto a transport (SSE, WebSocket, RPC fast path)
 * with backpressure: the transport's send resolves false when its client stayed too slow for
 * too long, and the stream then ends as "too slow" — a clean close the client resumes from with
 * its last message id. Ends on its own when the stream's signal aborts.
 *
 * While the transport takes frames at once (trySend returns true), live frames are pushed to the
 * pump (frame-receiver.ts): no promise per message. When it reports backpressure (a promise), the
 * pump reads with next() until the stream has nothing buffered, then is pushed to again.
 */
import { ResourceExhaustedError, UnauthenticatedError } from "../../domain/errors.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { type FrameReceiver, isPushable, type PushableFrames } from "../../realtime/frame-receiver.js";
import type { Frame } from "../../realtime/subscription.js";
import { describeFailure } from "./http-failure.js";
import type { AnyResponse } from "./respond.js";
import type { OpenStream } from "./stream-open.js";

/**
 * Sends one frame: true when it was taken at once (no allocation), else a promise that resolves
 * true once the client drained enough, false when it did not keep up (see pumpFrames).
 */
export type SendFrame = (frame: Frame) => boolean | Promise<boolean>;

/** Where runPump sends a stream's frames and reports its end: one object per stream, no closures. */
export interface FrameSink {
  /** Sends one frame: true when taken at once; a promise of false when the client did not keep up (see SendFrame). */
  trySend(frame: Frame): boolean | Promise<boolean>;
  /** Called once, with what ended the stream (what pumpFrames resolves with). */
  ended(ended: unknown): void;
}

/** Where a pump reports: metrics, and one log line per stream when it ends. */
export interface PumpObserver {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly transport: "sse" | "ws" | "rpc";
  /** Extra fields of the stream's log line (an RPC's procedure and protocol). */
  readonly logFields?: Readonly<Record<string, string>>;
}

/**
 * Sends Ready, then every frame until the stream ends, and closes the stream. Resolves with
 * what ended it: undefined for a plain stop (client left, server stopping), else the error to
 * report — UnauthenticatedError (signed out, expired), ResourceExhaustedError (too slow: the
 * subscription's bounded queue overflowed, or the send buffer did not drain in time), or an
 * unexpected error. Never rejects. Counts delivered messages and slow-client drops, and logs
 * the stream's end (unexpected errors at error level, with their cause).
 */
export function pumpFrames(stream: OpenStream, send: SendFrame, observer: PumpObserver): Promise<unknown> {
  return new Promise((resolve) => runPump(stream, { trySend: send, ended: resolve }, observer));
}

/**
 * pumpFrames into a sink. For a transport that keeps thousands of idle streams: a waiting pump
 * is one small object and the stream's pending next(), not a suspended async function.
 */
export function runPump(stream: OpenStream, sink: FrameSink, observer: PumpObserver): void {
  new FramePump(stream, sink, observer).start();
}

/**
 * The loop of pumpFrames as a state machine: send a frame, wait until sent, read the next, wait
 * for it — or, while sends complete at once, be pushed each frame by the stream.
 */
class FramePump implements FrameReceiver {
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
    const { stream, observer } = this;
    stream.close();
    const failure = ended === undefined ? undefined : describeFailure(ended);
    const line = {
      transport: observer.transport,
      ...observer.logFields,
      user: stream.userId,
      target: stream.target.kind === "room" ? `room:${stream.target.roomId}` : "dms",
      code: failure?.code ?? "ok",
      delivered: this.#delivered,
      ms: Math.round(performance.now() - this.#started),
    };
    if (failure?.status === 500) observer.logger.error({ ...line, err: ended }, "stream failed");
    else observer.logger.info(line, "stream ended");
    this.sink.ended(ended);
  }
}

function tooSlow(metrics: Metrics): ResourceExhaustedError {
  metrics.queueDrops.inc();
  return new ResourceExhaustedError("client is reading too slowly; reconnect with since set to the last message id received");
}

/**
 * Resolves true when `subscribe`'s callback fires within `ms`, false when the time runs out
 * first. `subscribe` registers the callback and returns how to unregister it.
 */
export function within(ms: number, subscribe: (done: () => void) => () => void): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), ms);
    unsubscribe = subscribe(() => finish(true));
    if (settled) unsubscribe();
  });
}

/** How much a streamed response may buffer for a slow client, and for how long. */
export interface SendLimits {
  /** Unsent bytes above which the stream waits for its client to read. */
  readonly sendBufferBytes: number;
  /** How long it waits before the client counts as too slow. */
  readonly slowClientMs: number;
}

/**
 * Writes one chunk of a streamed response (a SendFrame's body). Returns true while the unsent
 * bytes stay within `sendBufferBytes`; above, a promise of true when the client drains them
 * within `slowClientMs`, false when it does not. A response that has ended or closed is not
 * written to.
 */
export function writeBuffered(res: AnyResponse, chunk: Uint8Array | string, limits: SendLimits): boolean | Promise<boolean> {
  if (res.destroyed || res.writableEnded) return true;
  res.write(chunk);
  if ((res.writableLength ?? 0) <= limits.sendBufferBytes) return true;
  return within(limits.slowClientMs, (done) => {
    res.on("drain", done);
    res.on("close", done);
    return () => {
      res.off("drain", done);
      res.off("close", done);
    };
  });
}
