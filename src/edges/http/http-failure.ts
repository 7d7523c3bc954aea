/**
 * Failures as the browser edge answers them: one JSON shape {"code", "message"} with an HTTP
 * status. Domain and Connect errors go through edges/http/error-mapping.ts (the one mapping);
 * HttpError covers what fails before any RPC is reached (framing, media type, size, origin).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { codeName, httpStatusOf, toConnectError } from "./error-mapping.js";

/**
 * A failure of the HTTP layer itself. `code` is a Connect code name ("invalid_argument",
 * "permission_denied"…) so clients see one vocabulary; `message` is safe to show.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** What to send for a failure, and whether its cause must be logged (a bug or an outage). */
export interface Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
  /** True when nothing has logged the cause yet and it is not the client's fault. */
  readonly logCause: boolean;
}

/**
 * Describes any thrown value. Rate limits keep their Retry-After, 401 gets WWW-Authenticate;
 * unexpected errors become 500 "internal error" and never leak their message.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof HttpError) {
    return { status: error.status, code: error.code, message: error.message, headers: error.headers, logCause: false };
  }
  const { error: mapped, internal } = toConnectError(error);
  const headers: Record<string, string> = {};
  const retryAfter = mapped.metadata.get("retry-after");
  if (retryAfter) headers["retry-after"] = retryAfter;
  if (mapped.code === Code.Unauthenticated) headers["www-authenticate"] = 'Bearer realm="parley"';
  return {
    status: httpStatusOf(mapped.code),
    code: codeName(mapped.code),
    message: internal ? "internal error" : mapped.rawMessage,
    headers,
    // Errors that came back through the in-process transport were logged by its interceptor.
    logCause: internal && !(error instanceof ConnectError),
  };
}
