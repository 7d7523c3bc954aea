/**
 * Opaque, tamper-proof page tokens (AIP-158): the cursor plus an HMAC, base64url-encoded.
 * A token that was altered or made up is rejected with InvalidArgumentError.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError } from "../domain/errors.js";

export class PageTokens {
  constructor(private readonly secret: Buffer) {}

  /** Wraps a cursor (an id) into a token. */
  encode(cursor: string): string {
    return Buffer.from(`${cursor}.${this.#mac(cursor)}`).toString("base64url");
  }

  /** Unwraps a token into its cursor; undefined for the empty token (first page). */
  decode(token: string): string | undefined {
    if (token === "") return undefined;
    const [cursor, mac] = Buffer.from(token, "base64url").toString().split(".");
    if (!cursor || !mac || !/^[0-9]{1,20}$/.test(cursor)) throw new InvalidArgumentError("page_token is not valid");
    const expected = Buffer.from(this.#mac(cursor));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidArgumentError("page_token is not valid");
    }
    return cursor;
  }

  #mac(cursor: string): string {
    return createHmac("sha256", this.secret).update(cursor).digest("base64url").slice(0, 22);
  }
}
