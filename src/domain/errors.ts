/**
 * The domain's error catalogue. Services throw these; one place (edges/http/error-mapping.ts)
 * turns them into Connect codes and HTTP statuses. Messages are safe to show to the caller.
 */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type DomainErrorCode =
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "invalid_argument"
  | "resource_exhausted"
  | "unavailable";

/** No valid credentials were presented (missing, malformed, expired, revoked). */
export class UnauthenticatedError extends DomainError {
  readonly code = "unauthenticated";
}
/** The caller is known but may not do this. */
export class PermissionDeniedError extends DomainError {
  readonly code = "permission_denied";
}
/** The named room, user or message does not exist. */
export class NotFoundError extends DomainError {
  readonly code = "not_found";
}
/** A unique name is taken. */
export class AlreadyExistsError extends DomainError {
  readonly code = "already_exists";
}
/** The input breaks a rule the proto cannot express (e.g. only white space). */
export class InvalidArgumentError extends DomainError {
  readonly code = "invalid_argument";
}
/** A limit was hit: rate limit, slow consumer queue. */
export class ResourceExhaustedError extends DomainError {
  readonly code = "resource_exhausted";
  constructor(message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}
/** A backing engine did not answer in time; retrying later may work. */
export class UnavailableError extends DomainError {
  readonly code = "unavailable";
}
