/**
 * The authenticated caller of a request, as a typed context value set by the auth interceptor.
 * Handlers ask requireUser(ctx) and never look at headers themselves.
 */
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { UnauthenticatedError } from "../domain/errors.js";
import type { TokenClaims } from "./tokens.js";

export const callerKey = createContextKey<TokenClaims | undefined>(undefined, { description: "authenticated caller" });

/** The bearer token the caller presented (only for sealing it into a stream ticket; never logged). */
export const bearerTokenKey = createContextKey<string | undefined>(undefined, { description: "presented bearer token" });

/** The token the caller authenticated with; throws UNAUTHENTICATED when there is none. */
export function requireBearerToken(ctx: HandlerContext): string {
  const token = ctx.values.get(bearerTokenKey);
  if (!token) throw new UnauthenticatedError("sign in first: send Authorization: Bearer <token>");
  return token;
}

/** The caller's claims; throws UNAUTHENTICATED when the procedure was reached without a token. */
export function requireUser(ctx: HandlerContext): TokenClaims {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new UnauthenticatedError("sign in first: send Authorization: Bearer <token>");
  return caller;
}
