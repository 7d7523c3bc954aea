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

export async function forgeToken(key: KeyObject, claims: { sub: string; name: string; jti: string }, expiresInSeconds: number, now = new Date()): Promise<string> {
  const secret = await SecretKeyFromCryptoKey(key.toCryptoKey("Ed25519", false, ["sign"]) as unknown as CryptoKey);
  return protocol.Sign(secret, claims, { expiresIn: expiresInSeconds, now });
}
