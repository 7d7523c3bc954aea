/**
 * The credentials a browser-edge request presents, and the CSRF rule for the cookie. Three ways
 * in, one check: each yields an "Authorization: Bearer <token>" value that goes through the same
 * authentication (auth/authenticate.ts, run by edges/admission/admission.ts) as every RPC.
 */
import type { IncomingMessage } from "node:http";
import { UnauthenticatedError } from "../../domain/errors.js";
import type { OriginPolicy } from "./cors.js";
import { HttpError } from "./http-failure.js";
import type { RequestSite } from "./request-site.js";
import { readSessionCookie } from "./session-cookie.js";
import type { StreamTickets } from "../../auth/stream-tickets.js";

/** Where a request's credentials came from; the cookie alone is subject to the CSRF rule. */
export type CredentialSource = "header" | "cookie" | "ticket";

/** A request's credentials, normalised to an Authorization header value. */
export interface Credentials {
  /** The Authorization header value to authenticate with ("Bearer <token>" unless sent otherwise). */
  readonly authorization: string;
  readonly source: CredentialSource;
}

/**
 * Finds the request's credentials, in this order: the Authorization header; a stream ticket
 * (`?ticket=`, only where `tickets` is given — the subscribe routes), which is used up here; the
 * session cookie. Undefined when there are none. A `ticket` that cannot be redeemed throws
 * UnauthenticatedError rather than falling back to the cookie.
 */
export async function findCredentials(req: IncomingMessage, query: URLSearchParams, tickets?: StreamTickets): Promise<Credentials | undefined> {
  const header = req.headers.authorization;
  if (header) return { authorization: header, source: "header" };
  const ticket = tickets ? query.get("ticket") : null;
  if (tickets && ticket !== null) {
    const token = await tickets.redeem(ticket);
    if (token === undefined) throw new UnauthenticatedError("stream ticket is invalid, expired or already used: get a new one from POST /auth/ticket");
    return { authorization: `Bearer ${token}`, source: "ticket" };
  }
  const cookie = readSessionCookie(req);
  return cookie === undefined ? undefined : { authorization: `Bearer ${cookie}`, source: "cookie" };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for the cookie (on top of SameSite=Strict): a state-changing request that is
 * authenticated only by the cookie must come from a trusted origin (same origin or configured),
 * or — from a client that sends no Origin, which no browser does for cross-site writes — carry
 * an X-Requested-With header, which a cross-site page cannot add without a CORS preflight.
 * Throws HttpError 403 otherwise; does nothing for other credentials or safe methods.
 */
export function checkCookieWrite(req: IncomingMessage, credentials: Credentials | undefined, site: RequestSite, policy: OriginPolicy): void {
  if (credentials?.source !== "cookie" || SAFE_METHODS.has(req.method ?? "GET")) return;
  const origin = req.headers.origin;
  if (origin !== undefined ? policy.trusts(origin, site) : req.headers["x-requested-with"] !== undefined) return;
  throw new HttpError(
    403,
    "permission_denied",
    origin !== undefined
      ? `cookie-authenticated requests from origin ${origin} are not allowed`
      : "cookie-authenticated requests need an Origin or X-Requested-With header",
  );
}
