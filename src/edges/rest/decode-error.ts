import { InvalidArgumentError } from "../../domain/errors.js";

/**
 * The one failure of the REST edge's decoding: the HTTP request cannot be turned into the RPC's request message
 * (malformed JSON, a wrong JSON type, an unknown field or query parameter, a bad path parameter…).
 *
 * Contract: an InvalidArgumentError (code "invalid_argument"), so edges/http/error-mapping.ts answers it with 400 like
 * any other; `message` is safe to show to the client (it names the offending field or parameter, never server
 * internals). `cause`, when present, is for logs only.
 */
export class RestDecodeError extends InvalidArgumentError {
  /** The offending field, parameter or path variable, when one can be named. */
  readonly field: string | undefined;

  constructor(message: string, field?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.field = field;
  }
}
