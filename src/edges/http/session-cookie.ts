/**
 * The browser session cookie: the access token from sign-in, HttpOnly (page scripts cannot read
 * it), SameSite=Strict (other sites cannot make the browser send it), Secure when the client
 * reached us over HTTPS, Path=/, and expiring with the token.
 */
import type { IncomingMessage } from "node:http";
import type { RequestSite } from "./request-site.js";

/** The cookie's name; the OpenAPI document's cookieAuth names the same one. */
export const SESSION_COOKIE = "parley_token";

/** The session token the request's Cookie header carries, if any (not yet verified). */
export function readSessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value === "" ? undefined : value;
  }
  return undefined;
}

/** Set-Cookie value that stores `token` until `expiresAtMs`. */
export function sessionCookie(token: string, expiresAtMs: number, site: RequestSite): string {
  const maxAge = Math.max(0, Math.floor((expiresAtMs - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Max-Age=${maxAge}; ${attributes(site)}`;
}

/** Set-Cookie value that deletes the session cookie. */
export function clearedSessionCookie(site: RequestSite): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(site)}`;
}

function attributes(site: RequestSite): string {
  return `Path=/; HttpOnly; SameSite=Strict${site.scheme === "https" ? "; Secure" : ""}`;
}
