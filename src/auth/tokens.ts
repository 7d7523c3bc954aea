/**
 * The token port and its PASETO v4.public adapter. Tokens are Ed25519-signed, carry the user
 * id (sub), username, a random token id (jti), the issue time (iat) and an expiry; the signing
 * key lives in the data directory (mode 0600) unless given by the environment, so every node of
 * a deployment can share it.
 *
 * A token is accepted only if its lifetime (exp − iat) is at most the configured one (plus
 * TOKEN_CLOCK_LEEWAY_SECONDS), so a leaked key cannot mint tokens for years; iat and nbf may lie
 * up to that leeway in the future (another node's clock may run ahead), exp may not be past.
 * The `name` claim is informative only: the caller's name comes from the user record
 * (authenticate.ts).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PublicProtocol } from "paseto";
import { ImportPublicKeyFactory, ImportSecretKeyFactory, SignFactory, VerifyFactory } from "paseto/v4/public";
import type { PublicKey, SecretKey } from "paseto/v4/public";
import { ensurePrivateDir, type Loosened, tightenIfPresent } from "../private-files.js";

/** What a valid token says about its bearer. */
export interface TokenClaims {
  readonly userId: string;
  readonly username: string;
  readonly tokenId: string;
  readonly expiresAtMs: number;
}

export interface TokenIssuer {
  /** Signs a new token for the user, valid for the configured lifetime. */
  issue(user: { id: string; username: string }): Promise<{ token: string; claims: TokenClaims }>;
  /** Checks signature, format, expiry and lifetime; undefined when the token is not valid (revocation and the user's existence are separate). */
  verify(token: string): Promise<TokenClaims | undefined>;
}

const protocol = new PublicProtocol(SignFactory, VerifyFactory, ImportSecretKeyFactory, ImportPublicKeyFactory);
/** How far ahead another node's clock may be: its iat and nbf are accepted this much in the future, and lifetimes this much longer. */
export const TOKEN_CLOCK_LEEWAY_SECONDS = 5;
/** A user id as the store keeps them: a decimal int64 ≥ 0 (anything else is no user). */
const USER_ID = /^(0|[1-9][0-9]{0,18})$/;
const MAX_INT64 = (1n << 63n) - 1n;
/** Verified tokens remembered (oldest dropped first); about 1 KiB each. */
const VERIFIED_CACHE_SIZE = 50_000;

export class PasetoTokens implements TokenIssuer {
  readonly #verified = new Map<string, TokenClaims>();

  private constructor(
    private readonly secretKey: SecretKey,
    private readonly publicKey: PublicKey,
    private readonly lifetimeSeconds: number,
    private readonly now: () => number,
  ) {}

  /** Loads the Ed25519 key from PEM text, or from `keyFile` (created with mode 0600 on first start). */
  static async create(options: {
    keyPem?: string;
    keyFile: string;
    lifetimeSeconds: number;
    now?: () => number;
    /** Told when the key file or its directory had been open to other users (they are owner-only now). */
    onLoosened?: (found: readonly Loosened[]) => void;
  }): Promise<PasetoTokens> {
    const privateKey = options.keyPem ? createPrivateKey(options.keyPem) : loadOrCreateKey(options.keyFile, options.onLoosened);
    // The keys go to paseto as PASERK strings (seed ‖ public key; public key), not as CryptoKeys:
    // from a private CryptoKey it derives the public one with Web Crypto's getPublicKey, which
    // Node 24 marks experimental and warns about in every process at start.
    const jwk = privateKey.export({ format: "jwk" });
    const seed = Buffer.from(jwk.d ?? "", "base64url");
    const publicRaw = Buffer.from(createPublicKey(privateKey).export({ format: "jwk" }).x ?? "", "base64url");
    if (jwk.crv !== "Ed25519" || seed.length !== 32 || publicRaw.length !== 32) throw new Error("the token signing key must be an Ed25519 private key");
    return new PasetoTokens(
      await protocol.ImportSecretKey(`k4.secret.${Buffer.concat([seed, publicRaw]).toString("base64url")}`),
      await protocol.ImportPublicKey(`k4.public.${publicRaw.toString("base64url")}`),
      options.lifetimeSeconds,
      options.now ?? Date.now,
    );
  }

  async issue(user: { id: string; username: string }): Promise<{ token: string; claims: TokenClaims }> {
    const tokenId = randomBytes(16).toString("base64url");
    // Whole seconds, as PASETO's iat and exp carry them: the reported expiry is the token's own.
    const nowMs = Math.floor(this.now() / 1000) * 1000;
    const token = await protocol.Sign(
      this.secretKey,
      { sub: user.id, name: user.username, jti: tokenId },
      { expiresIn: this.lifetimeSeconds, now: new Date(nowMs) },
    );
    const expiresAtMs = nowMs + this.lifetimeSeconds * 1000;
    return { token, claims: { userId: user.id, username: user.username, tokenId, expiresAtMs } };
  }

  async verify(token: string): Promise<TokenClaims | undefined> {
    if (!token.startsWith("v4.public.") || token.length > 4096) return undefined;
    // A token that verified once verifies until it expires: skip the Ed25519 check (~170 µs),
    // which would otherwise dominate a busy connection's per-request cost.
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > this.now()) return cached;
      this.#verified.delete(token);
      return undefined;
    }
    const claims = await this.#verifySignature(token);
    if (claims) {
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, claims);
    }
    return claims;
  }

  async #verifySignature(token: string): Promise<TokenClaims | undefined> {
    const now = this.now();
    try {
      // The leeway lets iat and nbf be slightly ahead; it would also forgive a past exp, which is checked strictly below.
      const { claims } = await protocol.Verify(this.publicKey, token, {
        requiredClaims: ["sub", "jti", "exp", "iat"],
        clockTolerance: TOKEN_CLOCK_LEEWAY_SECONDS,
        now: new Date(now),
      });
      const { sub, jti, exp, iat, name } = claims;
      if (typeof sub !== "string" || typeof jti !== "string" || typeof exp !== "string" || typeof iat !== "string") return undefined;
      if (!USER_ID.test(sub) || BigInt(sub) > MAX_INT64) return undefined;
      const expiresAtMs = Date.parse(exp);
      const lifetimeMs = expiresAtMs - Date.parse(iat);
      if (!(expiresAtMs > now) || !(lifetimeMs <= (this.lifetimeSeconds + TOKEN_CLOCK_LEEWAY_SECONDS) * 1000)) return undefined;
      return { userId: sub, username: typeof name === "string" ? name : "", tokenId: jti, expiresAtMs };
    } catch {
      return undefined;
    }
  }
}

function loadOrCreateKey(file: string, onLoosened?: (found: readonly Loosened[]) => void): KeyObject {
  const loosened = [...ensurePrivateDir(dirname(file)), ...tightenIfPresent(file)];
  if (loosened.length > 0) onLoosened?.(loosened);
  if (existsSync(file)) return createPrivateKey(readFileSync(file, "utf8"));
  const { privateKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  return privateKey;
}
