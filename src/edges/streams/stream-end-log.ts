/**
 * What a pump reports when its stream ends: one log line per stream ("stream ended", or
 * "stream failed" with the cause for an unexpected error), and the slow-client drop count.
 */
import { ResourceExhaustedError } from "../../domain/errors.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { describeFailure } from "../http/http-failure.js";
import type { OpenStream } from "./stream-open.js";

/** Where a pump reports: metrics, and one log line per stream when it ends. */
export interface PumpObserver {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly transport: "sse" | "ws" | "rpc";
  /** Extra fields of the stream's log line (an RPC's procedure and protocol). */
  readonly logFields?: Readonly<Record<string, string>>;
}

/**
 * Logs the end of `stream`: its transport, user, target, the failure code of `ended` ("ok" for
 * undefined), the messages delivered and how long it lasted since `startedMs`
 * (performance.now()). Unexpected errors (status 500) log at error level, with their cause.
 */
export function logStreamEnd(stream: OpenStream, observer: PumpObserver, ended: unknown, delivered: number, startedMs: number): void {
  const failure = ended === undefined ? undefined : describeFailure(ended);
  const line = {
    transport: observer.transport,
    ...observer.logFields,
    user: stream.userId,
    target: stream.target.kind === "room" ? `room:${stream.target.roomId}` : stream.target.kind === "rooms" ? "rooms" : "dms",
    code: failure?.code ?? "ok",
    delivered,
    ms: Math.round(performance.now() - startedMs),
  };
  if (failure?.status === 500) observer.logger.error({ ...line, err: ended }, "stream failed");
  else observer.logger.info(line, "stream ended");
}

/** Counts a slow-client drop and returns the error that ends its stream as "too slow". */
export function tooSlow(metrics: Metrics): ResourceExhaustedError {
  metrics.queueDrops.inc();
  return new ResourceExhaustedError("client is reading too slowly; reconnect with since set to the last message id received");
}
