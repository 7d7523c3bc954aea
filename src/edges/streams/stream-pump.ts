/**
 * The one loop that moves a subscription's frames onto a transport (SSE, WebSocket, RPC fast path)
 * with backpressure: the transport's send resolves false when its client stayed too slow for
 * too long, and the stream then ends as "too slow" — a clean close the client resumes from with
 * its last message id. Ends on its own when the stream's signal aborts.
 *
 * While the transport takes frames at once (trySend returns true), live frames are pushed to the
 * pump (frame-receiver.ts): no promise per message. When it reports backpressure (a promise), the
 * pump reads with next() until the stream has nothing buffered, then is pushed to again. The
 * state machine is in frame-pump.ts, the end-of-stream report in stream-end-log.ts, the send
 * buffer in send-buffer.ts.
 */
import type { Frame } from "../../realtime/stream-contract.js";
import { type FrameSink, FramePump } from "./frame-pump.js";
import type { PumpObserver } from "./stream-end-log.js";
import type { OpenStream } from "./stream-open.js";

export type { FrameSink } from "./frame-pump.js";
export type { PumpObserver } from "./stream-end-log.js";
export { type SendLimits, within, writeBuffered } from "./send-buffer.js";

/**
 * Sends one frame: true when it was taken at once (no allocation), else a promise that resolves
 * true once the client drained enough, false when it did not keep up (see pumpFrames).
 */
export type SendFrame = (frame: Frame) => boolean | Promise<boolean>;

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
