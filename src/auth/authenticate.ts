/**
 * Authentication of a request, for every edge (edges/admission/admission.ts runs it): "Authorization:
 * Bearer <token>", the PASETO signature, expiry and lifetime, revocation, and the user (cached).
 * Procedures in PUBLIC_PROCEDURES (sign-up, sign-in, health, reflection) need no token.
 */
import { UnauthenticatedError } from "../domain/errors.js";
import type { RevocationCache } from "./revocations.js";
import type { TokenClaims, TokenIssuer } from "./tokens.js";
import type { UserDirectory } from "./user-directory.js";

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

/** What authenticating a token consults: signature and lifetime, revocations, the user record. */
export interface AuthPorts {
  readonly tokens: TokenIssuer;
  readonly revocations: RevocationCache;
  readonly users: UserDirectory;
}

/** Resolves an Authorization header to the caller, or throws UnauthenticatedError saying why not. */
export async function authenticate(authorization: string | null, auth: AuthPorts): Promise<TokenClaims> {
  return authenticateToken(bearerToken(authorization), auth);
}

/**
 * Resolves a bearer token (without "Bearer ") to the caller, or throws UnauthenticatedError
 * saying why not: bad signature or lifetime, revoked, or its user does not exist. The caller's
 * username is the user record's, whatever the token's `name` claim says.
 */
export async function authenticateToken(token: string, auth: AuthPorts): Promise<TokenClaims> {
  const claims = await auth.tokens.verify(token);
  if (!claims) throw new UnauthenticatedError("invalid or expired token: sign in again");
  if (await auth.revocations.isRevoked(claims.tokenId)) throw new UnauthenticatedError("token was revoked: sign in again");
  const user = auth.users.cached(claims.userId) ?? (await auth.users.find(claims.userId));
  if (!user) throw new UnauthenticatedError("the token's user does not exist: sign in again");
  return user.username === claims.username ? claims : { ...claims, username: user.username };
}
