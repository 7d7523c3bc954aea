/**
 * Where a request came from and where it was sent to: the client's address, and the scheme and
 * host the client used (for absolute Location headers, Secure cookies and same-origin checks).
 * X-Forwarded-For/-Proto/-Host are believed only from configured trusted proxies.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { clientAddress } from "../admission/client-address.js";

/** The client and the server origin of one request, with proxy headers applied only when trusted. */
export interface RequestSite {
  /** The client's IP address (rate limits, logs). */
  readonly ip: string;
  readonly scheme: "http" | "https";
  /** host[:port] as the client addressed the server; "localhost" when the header is missing or malformed. */
  readonly host: string;
  /** `${scheme}://${host}`: this server's origin as the client sees it. */
  readonly origin: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** The request's site; never throws, whatever the headers say. */
export function requestSite(req: IncomingMessage, trustedProxies: readonly string[]): RequestSite {
  const peer = req.socket.remoteAddress;
  const trusted = peer !== undefined && trustedProxies.includes(peer);
  const ip = clientAddress(peer, req.headers["x-forwarded-for"], trustedProxies);
  const forwardedProto = trusted ? firstValue(req.headers["x-forwarded-proto"])?.toLowerCase() : undefined;
  const scheme = forwardedProto === "https" || forwardedProto === "http" ? forwardedProto : (req.socket as Partial<TLSSocket>).encrypted ? "https" : "http";
  const forwardedHost = trusted ? firstValue(req.headers["x-forwarded-host"]) : undefined;
  const authority = req.headers[":authority"];
  const candidate = forwardedHost ?? (typeof authority === "string" ? authority : undefined) ?? req.headers.host ?? "";
  const host = HOST.test(candidate) ? candidate.toLowerCase() : "localhost";
  return { ip, scheme, host, origin: `${scheme}://${host}` };
}

/** The path and query of a request exactly as sent. */
export interface RequestTarget {
  /** The raw path, still percent-encoded and NOT normalised: "/a/../b" and "/%2e%2e" stay as they are. */
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/**
 * Splits a request target ("/path?query") without WHATWG URL normalisation, which would turn
 * "/rooms/%2e%2e" into "/" before any route saw it; routes and static files judge the raw path.
 */
export function requestTarget(url: string): RequestTarget {
  const cut = url.indexOf("?");
  const pathname = cut < 0 ? url : url.slice(0, cut);
  return { pathname, searchParams: new URLSearchParams(cut < 0 ? "" : url.slice(cut + 1)) };
}

/** The first entry of a possibly repeated, possibly comma-separated header. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(",")[0]?.trim();
  return first ? first : undefined;
}

/**
 * Why a request's authority (HTTP/1.1 Host, HTTP/2 :authority) cannot serve as a URL's — missing,
 * or not host[:port] (a space, a bracket, a port over 65535) — or undefined when it can. Handlers
 * (connect-node's among them) build URLs from it; the router (router.ts) refuses such a request with 400
 * before any of them runs.
 */
export function authorityProblem(req: { readonly headers: IncomingHttpHeaders; readonly authority?: string }): string | undefined {
  const authority = req.authority ?? req.headers.host;
  if (authority === undefined || authority === "") return "the request names no host: send a Host header";
  return URL.canParse(`http://${authority}`) ? undefined : "the Host header is not a host name or address with an optional port";
}
