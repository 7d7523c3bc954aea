/**
 * Which browser origins may use the API, and CORS for every HTTP route on the port — REST and
 * Connect/gRPC-Web alike (the router puts it in front of connect-node: router.ts). The same policy guards
 * WebSocket upgrades (cross-site WebSocket hijacking) and cookie-authenticated writes (CSRF).
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { cors as connectCors } from "@connectrpc/connect";
import type { AnyResponse } from "./respond.js";
import { sendError } from "./respond.js";
import type { RequestSite } from "./request-site.js";
import { requestSite } from "./request-site.js";

/** Decides which page origins may use the API, and which may use it with the session cookie. */
export interface OriginPolicy {
  /**
   * True when `origin` is this server's own: one of the configured public origins, or the origin
   * the request was addressed to when that names the server unambiguously (localhost or an IP
   * address). Never because of a Host header naming a domain.
   */
  isOwn(origin: string, site: RequestSite): boolean;
  /** True when a page from `origin` may call the API: its own origin, a configured origin, or "*" configured. */
  allows(origin: string, site: RequestSite): boolean;
  /**
   * True when a page from `origin` may act with the session cookie: its own origin or a configured
   * origin — "*" is never enough, so a wildcard cannot open the door to CSRF or hijacked sockets.
   */
  trusts(origin: string, site: RequestSite): boolean;
}

/**
 * The policy for PUBLIC_ORIGINS (where this server's own page is served) and CORS_ORIGINS (other
 * sites allowed to call it: exact origins such as "https://chat.example.com", or "*").
 *
 * Why not just compare Origin with Host: a page can choose both. DNS rebinding points the
 * attacker's name at this server, and the victim's browser then sends `Origin:
 * http://evil.example` with `Host: evil.example` (through a proxy: `X-Forwarded-Host`) — "same
 * origin" by the Host header. An IP address or `localhost` cannot be an attacker's name: a page
 * whose origin is one is served from this very address, so the request's own origin counts for
 * those with no setting (the page at http://localhost:8080 or http://10.0.0.5:8080 works); a
 * deployment reached by name lists its origins in PUBLIC_ORIGINS.
 */
export function originPolicy(configured: readonly string[], publicOrigins: readonly string[] = []): OriginPolicy {
  const listed = new Set(configured.filter((o) => o !== "*").map(normalise));
  const any = configured.includes("*");
  const own = new Set(publicOrigins.map(normalise));
  const isOwn = (origin: string, site: RequestSite) => {
    const normalised = normalise(origin);
    return own.has(normalised) || (normalised === site.origin && namesThisServer(site.host));
  };
  const trusts = (origin: string, site: RequestSite) => isOwn(origin, site) || listed.has(normalise(origin));
  return { isOwn, trusts, allows: (origin, site) => any || trusts(origin, site) };
}

/** localhost or an IP literal (with or without a port): no one else's DNS name can make a browser send it. */
function namesThisServer(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:[0-9]+$/, "");
  return name === "localhost" || isIP(name) !== 0;
}

/** Request headers a cross-origin page may send: Connect's, gRPC-Web's, and the REST edge's. */
const ALLOWED_HEADERS = [...connectCors.allowedHeaders, "Authorization", "Last-Event-ID", "X-Requested-With"].join(", ");
/** Response headers a cross-origin page may read. */
const EXPOSED_HEADERS = [...connectCors.exposedHeaders, "Location", "Retry-After", "X-Next-Page-Token", "WWW-Authenticate"].join(", ");
const ALLOWED_METHODS = "GET, POST, OPTIONS";

/**
 * Returns a function to call first for every HTTP request. It adds CORS headers for an allowed
 * cross-origin caller (credentials only for trusted origins) and answers preflights itself:
 * 204 when allowed, 403 otherwise; it returns true when it has answered the request.
 */
export function createCors(policy: OriginPolicy, trustedProxies: readonly string[]): (req: IncomingMessage, res: AnyResponse) => boolean {
  return (req, res) => {
    const origin = req.headers.origin;
    if (!origin) return false;
    const site = requestSite(req, trustedProxies);
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    res.setHeader("vary", "Origin");
    if (policy.isOwn(origin, site)) return false;
    if (!policy.allows(origin, site)) {
      if (preflight) sendError(res, 403, "permission_denied", `origin ${origin} is not allowed`);
      return preflight;
    }
    const credentials = policy.trusts(origin, site);
    res.setHeader("access-control-allow-origin", credentials ? origin : "*");
    if (credentials) res.setHeader("access-control-allow-credentials", "true");
    if (!preflight) {
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
      return false;
    }
    res.writeHead(204, {
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": "7200",
      "content-length": "0",
    });
    res.end();
    return true;
  };
}

/** An origin as browsers serialise it in Origin: no trailing slash, lower case. */
function normalise(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}
