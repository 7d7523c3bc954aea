/**
 * Turns every driver failure that means "Cassandra could not be reached or did not answer" into
 * the domain's UnavailableError, so callers see one retryable error (UNAVAILABLE, HTTP 503)
 * whatever went wrong between Parley and Cassandra — never a 500. Everything else (syntax,
 * invalid query, bugs) passes through unchanged: those are server faults.
 */
import cassandra from "cassandra-driver";
import { UnavailableError } from "../../domain/errors.js";

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

/** Server-side answers that mean "not enough replicas answered in time; try again later". */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.writeTimeout,
  codes.readTimeout,
]);

/**
 * Returns an UnavailableError (with the driver error as its cause) for client-side timeouts,
 * closed or refused connections, hosts that are down or busy, and unavailable, overloaded or
 * timed-out replicas; returns any other error as it is.
 */
export function toStoreError(error: unknown, operation: string): unknown {
  const why = unreachable(error);
  if (why === undefined) return error;
  return new UnavailableError(`the message store is unavailable (${operation}): ${why}; try again`, { cause: error });
}

/** Why `error` means Cassandra could not serve the request, or undefined when it means something else. */
function unreachable(error: unknown): string | undefined {
  if (error instanceof errors.OperationTimedOutError) return "Cassandra did not answer in time";
  if (error instanceof errors.NoHostAvailableError) return "no Cassandra node could serve it";
  if (error instanceof errors.BusyConnectionError) return "every connection to Cassandra is busy";
  if (error instanceof errors.ResponseError) return RETRYABLE_CODES.has(error.code) ? "too few replicas answered" : undefined;
  // The driver's "Socket was closed" (a connection dropped or declared dead with requests on
  // it) is a plain DriverError marked this way: the one flag it sets on every socket failure.
  if (error instanceof errors.DriverError && (error as { isSocketError?: unknown }).isSocketError === true) {
    return "the connection to Cassandra was lost";
  }
  return undefined;
}
