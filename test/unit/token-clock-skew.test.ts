/**
 * Tokens across nodes whose clocks disagree: a token issued on node A verifies on node B whose
 * clock is up to TOKEN_CLOCK_LEEWAY_SECONDS behind A's (its iat lies in B's future), not beyond;
 * and B's clock being ahead never stretches a token past its expiry.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PasetoTokens, TOKEN_CLOCK_LEEWAY_SECONDS } from "../../src/auth/tokens.js";

const keyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const LIFETIME_SECONDS = 600;
/** Node A's clock, on a whole second (tokens carry whole seconds). */
const T = Math.floor(Date.now() / 1000) * 1000;

/** A node sharing the signing key whose clock reads `offsetMs` from A's. */
const nodeAt = (offsetMs: number) =>
  PasetoTokens.create({ keyPem, keyFile: "/nonexistent/unused", lifetimeSeconds: LIFETIME_SECONDS, now: () => T + offsetMs });

describe("token clock leeway between nodes", () => {
  it(`accepts on a node up to ${TOKEN_CLOCK_LEEWAY_SECONDS} s behind the issuer, refuses beyond`, async () => {
    const { token, claims } = await (await nodeAt(0)).issue({ id: "42", username: "ann" });
    for (const behindMs of [0, 1_000, 2_000, 3_000, (TOKEN_CLOCK_LEEWAY_SECONDS - 0.5) * 1000]) {
      expect(await (await nodeAt(-behindMs)).verify(token), `${behindMs} ms behind`).toEqual(claims);
    }
    for (const behindMs of [(TOKEN_CLOCK_LEEWAY_SECONDS + 1) * 1000, 60_000]) {
      expect(await (await nodeAt(-behindMs)).verify(token), `${behindMs} ms behind`).toBeUndefined();
    }
  });

  it("accepts on a node ahead of the issuer until the token's expiry by that node's clock, never after", async () => {
    const { token, claims } = await (await nodeAt(0)).issue({ id: "42", username: "ann" });
    expect(await (await nodeAt(3_000)).verify(token)).toEqual(claims);
    expect(await (await nodeAt(LIFETIME_SECONDS * 1000 - 1)).verify(token)).toEqual(claims);
    expect(await (await nodeAt(LIFETIME_SECONDS * 1000)).verify(token)).toBeUndefined();
    expect(await (await nodeAt(LIFETIME_SECONDS * 1000 + 2_000)).verify(token)).toBeUndefined();
  });
});
