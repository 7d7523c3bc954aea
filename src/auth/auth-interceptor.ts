/**
 * One interceptor authenticates every RPC: it reads "Authorization: Bearer <token>", verifies the
 * PASETO signature and expiry, checks revocation, and puts the caller in callerKey. Procedures in
 * PUBLIC_PROCEDURES (sign-up, sign-in, health, reflection) are let through without a token.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { UnauthenticatedError } from "../domain/errors.js";
import { bearerTokenKey, callerKey } from "./auth-context.js";
import type { RevocationCache } from "./revocations.js";
import type { TokenClaims, TokenIssuer } from "./tokens.js";

const PUBLIC_PROCEDURES = new Set(["/chat.v1.AuthService/SignUp", "/chat.v1.AuthService/SignIn"]);
const PUBLIC_PREFIXES = ["/grpc.health.v1.", "/grpc.reflection."];

export function isPublicProcedure(path: string): boolean {
  return PUBLIC_PROCEDURES.has(path) || PUBLIC_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** The token of an "Authorization: Bearer <token>" header; throws UnauthenticatedError otherwise. */
export function bearerToken(authorization: string | null): string {
  if (!authorization) throw new UnauthenticatedError("missing Authorization header: send Bearer <token>");
  const match = /^Bearer +(\S+)$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError("Authorization header must be: Bearer <token>");
  return match[1]!;
}

/** Resolves a bearer token to its claims, or throws UnauthenticatedError saying why not. */
export async function authenticate(
  authorization: string | null,
  tokens: TokenIssuer,
  revocations: RevocationCache,
): Promise<TokenClaims> {
  return authenticateToken(bearerToken(authorization), tokens, revocations);
}

/** Resolves a bearer token (without "Bearer ") to its claims, or throws UnauthenticatedError saying why not. */
export async function authenticateToken(token: string, tokens: TokenIssuer, revocations: RevocationCache): Promise<TokenClaims> {
  const claims = await tokens.verify(token);
  if (!claims) throw new UnauthenticatedError("invalid or expired token: sign in again");
  if (await revocations.isRevoked(claims.tokenId)) throw new UnauthenticatedError("token was revoked: sign in again");
  return claims;
}

export function authInterceptor(tokens: TokenIssuer, revocations: RevocationCache): Interceptor {
  // Whether a method is public is decided once per method, not per call.
  const publicMethods = new WeakMap<DescMethod, boolean>();
  const isPublic = (method: DescMethod): boolean => {
    let open = publicMethods.get(method);
    if (open === undefined) {
      open = isPublicProcedure(`/${method.parent.typeName}/${method.name}`);
      publicMethods.set(method, open);
    }
    return open;
  };
  return (next) => async (req) => {
    if (isPublic(req.method)) return next(req);
    const token = bearerToken(req.header.get("authorization"));
    const claims = await authenticateToken(token, tokens, revocations);
    req.contextValues.set(callerKey, claims);
    req.contextValues.set(bearerTokenKey, token);
    return next(req);
  };
}
