/**
 * The one place domain errors become wire errors: Connect codes for RPCs, HTTP statuses for
 * REST. Anything unexpected becomes INTERNAL with a generic message; its cause is logged by
 * the caller and never sent.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, type DomainErrorCode, ResourceExhaustedError } from "../../domain/errors.js";

const CODES: Record<DomainErrorCode, Code> = {
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  invalid_argument: Code.InvalidArgument,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
};

/** A ConnectError for any thrown value; `internal` is true when the cause must be logged. */
export function toConnectError(error: unknown): { error: ConnectError; internal: boolean } {
  if (error instanceof ConnectError) return { error, internal: error.code === Code.Internal || error.code === Code.Unknown };
  if (error instanceof DomainError) {
    const metadata = new Headers();
    if (error instanceof ResourceExhaustedError && error.retryAfterSeconds !== undefined) {
      metadata.set("retry-after", String(error.retryAfterSeconds));
    }
    return { error: new ConnectError(error.message, CODES[error.code], metadata), internal: false };
  }
  return { error: new ConnectError("internal error", Code.Internal, undefined, undefined, error), internal: true };
}

/** HTTP status for a Connect code (the Connect protocol's own mapping). */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
    case Code.FailedPrecondition:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.ResourceExhausted:
      return 429;
    case Code.Canceled:
      return 499;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

/** The snake_case name of a code, as Connect's JSON errors spell it ("not_found"). */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
