/**
 * How the client reads a failed call: the one place that decides what is worth retrying, how long
 * the server asked us to wait, and what to tell the app. Errors stay Connect errors (`ConnectError`
 * with a `Code`): the app can inspect them as it would any Connect call's.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Why a subscription is between streams:
 * - `server-stopping`: the server is draining (UNAVAILABLE "server is stopping"); any other node will do;
 * - `network`: the connection failed or was cut, or the server could not be reached;
 * - `dead-connection`: no frame arrived for two heartbeat intervals, so the connection was dropped;
 * - `slow-consumer`: the server ended the stream because the app read too slowly (RESOURCE_EXHAUSTED);
 * - `rate-limited`: the server refused the stream for now (RESOURCE_EXHAUSTED, honouring Retry-After);
 * - `ended`: the server ended the stream without an error;
 * - `server-error`: any other failure the server may recover from (UNAVAILABLE, INTERNAL, …).
 */
export type DisconnectReason = "server-stopping" | "network" | "dead-connection" | "slow-consumer" | "rate-limited" | "ended" | "server-error";

/**
 * Why a subscription stopped for good (until `resume()`):
 * - `closed`: the app called `close()`;
 * - `unauthenticated`: the token is missing, expired or was signed out: supply a new one and `resume()`;
 * - `refused`: the server will not serve this request as it is (NOT_FOUND, INVALID_ARGUMENT, …);
 * - `handler-error`: the app's `onMessage` threw; the message is not counted as delivered.
 */
export type CloseReason = "closed" | "unauthenticated" | "refused" | "handler-error";

/** Codes that mean "this request will fail the same way again": never retried. */
const FINAL_CODES = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.Unauthenticated,
]);

/** True when retrying the same request later may succeed (transport failures, overload, restarts). */
export function isRetryable(error: ConnectError): boolean {
  return !FINAL_CODES.has(error.code);
}

/** The server's Retry-After in milliseconds (error metadata: headers or trailers), if it sent one. */
export function retryAfterMs(error: ConnectError): number | undefined {
  const value = error.metadata.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** Why a stream ended with `error`; `wasLive` says whether it had sent its Ready frame. */
export function disconnectReason(error: ConnectError, wasLive: boolean): DisconnectReason {
  if (error.code === Code.ResourceExhausted) {
    // After Ready it is the server's slow-consumer cut-off; before, a refusal to open (rate
    // limit, too many streams) — both say "come back later", the second with Retry-After.
    return wasLive && retryAfterMs(error) === undefined ? "slow-consumer" : "rate-limited";
  }
  // The drain's wording is the only sign of it on the wire (see the report on issue #15).
  if (error.code === Code.Unavailable && /stopping/i.test(error.rawMessage)) return "server-stopping";
  // Errors made on this side (a refused or reset connection, a failed fetch) carry their cause;
  // errors the server sent do not.
  if (error.cause !== undefined) return "network";
  switch (error.code) {
    case Code.Unknown:
    case Code.Canceled:
    case Code.DeadlineExceeded:
    case Code.Aborted:
      return "network";
    default:
      return "server-error";
  }
}

/** The close reason for an error that is not retried. */
export function closeReason(error: ConnectError): CloseReason {
  return error.code === Code.Unauthenticated ? "unauthenticated" : "refused";
}

export { Code, ConnectError };
