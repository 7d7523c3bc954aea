/** Signs PASETO v4.public tokens with a chosen key and expiry, to test how the server rejects them. */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PublicProtocol } from "paseto";
import { SecretKeyFromCryptoKey, SignFactory, VerifyFactory } from "paseto/v4/public";

const protocol = new PublicProtocol(SignFactory, VerifyFactory);

export function serverKey(dataDir: string): KeyObject {
  return createPrivateKey(readFileSync(join(dataDir, "token-signing-key.pem"), "utf8"));
}

export function otherKey(): KeyObject {
  return generateKeyPairSync("ed25519").privateKey;
}

/**
 * A token with `claims`, issued at `now` (iat, unless `addIssuedAt` is false) and expiring
 * `expiresInSeconds` later. `nbf` and `iat` may be given as RFC 3339 strings.
 */
export async function forgeToken(
  key: KeyObject,
  claims: { sub: string; name: string; jti: string; nbf?: string; iat?: string },
  expiresInSeconds: number,
  now = new Date(),
  options: { addIssuedAt?: boolean } = {},
): Promise<string> {
  const secret = await SecretKeyFromCryptoKey(key.toCryptoKey("Ed25519", false, ["sign"]) as unknown as CryptoKey);
  return protocol.Sign(secret, claims, { expiresIn: expiresInSeconds, now, addIssuedAt: options.addIssuedAt ?? true });
}
