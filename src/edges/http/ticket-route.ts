/**
 * POST /auth/ticket: trades the caller's credentials (Authorization header, or the session
 * cookie with the CSRF rule) for a stream ticket (stream-tickets.ts) to put in an EventSource or
 * WebSocket URL as `?ticket=`. Answers 200 {"ticket", "expiresAt"}; 401 without valid
 * credentials; 429 over the rate limits. Takes no body (or `{}`).
 */
import type { IncomingMessage } from "node:http";
import { authenticate } from "../../auth/auth-interceptor.js";
import type { RevocationCache } from "../../auth/revocations.js";
import type { TokenIssuer } from "../../auth/tokens.js";
import { InvalidArgumentError, UnauthenticatedError } from "../../domain/errors.js";
import type { RateLimiter } from "../rate-limit.js";
import type { OriginPolicy } from "./cors.js";
import { checkCookieWrite, findCredentials } from "./credentials.js";
import { type BodyLimits, readJson } from "./request-body.js";
import type { RequestSite } from "./request-site.js";
import { type AnyResponse, sendJson } from "./respond.js";
import type { StreamTickets } from "./stream-tickets.js";

/** The ticket route's path. */
export const TICKET_PATH = "/auth/ticket";

/** What the ticket route needs. */
export interface TicketRouteDeps {
  readonly tickets: StreamTickets;
  readonly tokens: TokenIssuer;
  readonly revocations: RevocationCache;
  readonly limiter: RateLimiter;
  readonly policy: OriginPolicy;
  readonly body: BodyLimits;
}

/** Serves POST /auth/ticket; throws the error to answer with. */
export async function serveTicket(req: IncomingMessage, res: AnyResponse, site: RequestSite, deps: TicketRouteDeps): Promise<void> {
  const body = await readJson(req, deps.body);
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body) || Object.keys(body).length > 0)) {
    throw new InvalidArgumentError(`POST ${TICKET_PATH} takes no request body`);
  }
  deps.limiter.check(site.ip, undefined);
  const credentials = findCredentials(req, new URLSearchParams());
  if (!credentials) throw new UnauthenticatedError("sign in first: send Authorization: Bearer <token> or the session cookie");
  checkCookieWrite(req, credentials, site, deps.policy);
  const claims = await authenticate(credentials.authorization, deps.tokens, deps.revocations);
  deps.limiter.check(undefined, claims.userId);
  const token = credentials.authorization.replace(/^Bearer +/i, "");
  const { ticket, expiresAtMs } = deps.tickets.issue(token);
  sendJson(res, 200, { ticket, expiresAt: new Date(expiresAtMs).toISOString() });
}
