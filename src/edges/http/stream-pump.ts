/**
 * The one loop that moves a subscription's frames onto a transport (SSE, WebSocket, RPC fast path)
 * with backpressure: the transport's send resolves false when its client stayed too slow for
 * too long, and the stream then ends as "too slow" — a clean close the client resumes from with
 * its last message id. Ends on its own when the stream's signal aborts.
 */
import { ResourceExhaustedError, UnauthenticatedError } from "../../domain/errors.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Frame } from "../../realtime/subscription.js";
import { describeFailure } from "./http-failure.js";
import type { AnyResponse } from "./respond.js";
import type { OpenStream } from "./stream-open.js";

/** Sends one frame; resolves false when the client did not keep up (see pumpFrames). */
export type SendFrame = (frame: Frame) => Promise<boolean>;

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
export async function pumpFrames(stream: OpenStream, send: SendFrame, observer: PumpObserver): Promise<unknown> {
  const started = performance.now();
  let delivered = 0;
  let ended: unknown;
  try {
    if (!(await send(stream.ready))) return (ended = tooSlow(observer.metrics));
    for await (const frame of stream.frames) {
      if (!(await send(frame))) return (ended = tooSlow(observer.metrics));
      if (frame.kind !== "message") continue;
      delivered++;
      observer.metrics.messagesDelivered.inc();
    }
    const reason: unknown = stream.signal.reason;
    return (ended = reason instanceof UnauthenticatedError ? reason : undefined);
  } catch (error) {
    return (ended = error);
  } finally {
    stream.close();
    const failure = ended === undefined ? undefined : describeFailure(ended);
    const line = {
      transport: observer.transport,
      ...observer.logFields,
      user: stream.userId,
      target: stream.target.kind === "room" ? `room:${stream.target.roomId}` : "dms",
      code: failure?.code ?? "ok",
      delivered,
      ms: Math.round(performance.now() - started),
    };
    if (failure?.status === 500) observer.logger.error({ ...line, err: ended }, "stream failed");
    else observer.logger.info(line, "stream ended");
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

const SENT: Promise<boolean> = Promise.resolve(true);

/**
 * Writes one chunk of a streamed response (a SendFrame's body). Resolves true at once while the
 * unsent bytes stay within `sendBufferBytes` (one shared settled promise, not a new one per
 * chunk); above, true when the client drains them within `slowClientMs`, false when it does not.
 * A response that has ended or closed is not written to.
 */
export function writeBuffered(res: AnyResponse, chunk: Uint8Array | string, limits: SendLimits): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return SENT;
  res.write(chunk);
  if ((res.writableLength ?? 0) <= limits.sendBufferBytes) return SENT;
  return within(limits.slowClientMs, (done) => {
    res.on("drain", done);
    res.on("close", done);
    return () => {
      res.off("drain", done);
      res.off("close", done);
    };
  });
}
