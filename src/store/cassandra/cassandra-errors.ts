/**
 * Turns the driver's "no answer" failures into the domain's UnavailableError, so callers see
 * one retryable error whatever went wrong between Parley and Cassandra. Everything else (syntax,
 * invalid query, bugs) passes through unchanged.
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
 * Returns an UnavailableError (with the driver error as its cause) for timeouts, unreachable
 * hosts and unavailable/overloaded replicas; returns any other error as it is.
 */
export function toStoreError(error: unknown, operation: string): unknown {
  if (error instanceof errors.OperationTimedOutError) {
    return new UnavailableError(`the message store did not answer in time (${operation}); try again`, { cause: error });
  }
  if (error instanceof errors.NoHostAvailableError) {
    return new UnavailableError(`the message store is unavailable (${operation}): no Cassandra node could serve it; try again`, {
      cause: error,
    });
  }
  if (error instanceof errors.ResponseError && RETRYABLE_CODES.has(error.code)) {
    return new UnavailableError(`the message store is unavailable (${operation}): too few replicas answered; try again`, {
      cause: error,
    });
  }
  return error;
}
