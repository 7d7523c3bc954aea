/**
 * What a validly signed token may and may not claim (tokens forged with the server's own key,
 * as if it had leaked): the sender name others see comes from the user record, not the `name`
 * claim; a token for no user, or living longer than TOKEN_TTL_SECONDS, is refused on every
 * edge; a few seconds of clock skew between nodes (iat, nbf slightly ahead) is forgiven, an
 * expired token is not.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { forgeToken, serverKey } from "../support/forge-token.js";

const TTL_SECONDS = 3600;
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
});
afterAll(async () => {
  await server.stop();
});

let forged = 0;
/** A token signed with the server's key, for `sub`, issued `skewMs` from now. */
function token(sub: string, expiresInSeconds: number, extra: { name?: string; skewMs?: number; nbf?: string; addIssuedAt?: boolean } = {}) {
  const claims = { sub, name: extra.name ?? "someone", jti: `forged-${forged++}`, ...(extra.nbf ? { nbf: extra.nbf } : {}) };
  return forgeToken(serverKey(server.dataDir), claims, expiresInSeconds, new Date(Date.now() + (extra.skewMs ?? 0)), { addIssuedAt: extra.addIssuedAt ?? true });
}

/** The status the REST edge and the code the Connect edge answer for `token`, and the SSE stream's status. */
async function verdict(forgedToken: string): Promise<{ rest: number; rpc: Code | "ok"; sse: number }> {
  const rest = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${forgedToken}` } });
  await rest.body?.cancel();
  const rpc = await chatClients(server.url, forgedToken)
    .rooms.listRooms({})
    .then(() => "ok" as const, (e: { code: Code }) => e.code);
  const sse = await fetch(`${server.url}/me/subscribe`, { headers: { authorization: `Bearer ${forgedToken}`, accept: "text/event-stream" } });
  await sse.body?.cancel();
  return { rest: rest.status, rpc, sse: sse.status };
}
const ACCEPTED = { rest: 200, rpc: "ok", sse: 200 };
const REFUSED = { rest: 401, rpc: Code.Unauthenticated, sse: 401 };

describe("the name a token claims", () => {
  it("is not the name others see: messages carry the user record's name", async () => {
    const alice = await newUser(server.url);
    const room = await alice.clients.rooms.createRoom({ name: uniqueName("room") });
    const posing = chatClients(server.url, await token(alice.user.userId, 600, { name: "the-admin" }));
    const posted = await posing.messages.postMessage({ roomId: room.room!.roomId, text: "who am I?" });
    expect(posted.message?.sender).toMatchObject({ userId: alice.user.userId, username: alice.user.username });
    expect((await posing.auth.getMe({})).user?.username).toBe(alice.user.username);
  });
});

describe("a token for no user", () => {
  it("is refused with 401 on REST, RPC and streams, whatever its subject looks like", async () => {
    for (const sub of ["123456789", "0", "9223372036854775807", "99999999999999999999", "not-an-id", "-1", ""]) {
      expect(await verdict(await token(sub, 600)), sub).toEqual(REFUSED);
    }
    // Refusals, not faults: nothing logged at error level (pino's 50).
    expect(server.output()).not.toContain('"level":50');
  });
});

describe("a token's lifetime", () => {
  it("is accepted up to TOKEN_TTL_SECONDS and refused beyond (plus a few seconds of skew)", async () => {
    const { user } = await newUser(server.url);
    expect(await verdict(await token(user.userId, TTL_SECONDS))).toEqual(ACCEPTED);
    expect(await verdict(await token(user.userId, TTL_SECONDS + 3))).toEqual(ACCEPTED);
    expect(await verdict(await token(user.userId, TTL_SECONDS + 60))).toEqual(REFUSED);
    expect(await verdict(await token(user.userId, 10 * 365 * 86_400))).toEqual(REFUSED);
    // Without iat the lifetime is unknown: refused.
    expect(await verdict(await token(user.userId, 600, { addIssuedAt: false }))).toEqual(REFUSED);
  });
});

describe("clock skew between nodes", () => {
  it("forgives iat and nbf a few seconds ahead, not more, and never a past expiry", async () => {
    const { user } = await newUser(server.url);
    expect(await verdict(await token(user.userId, 600, { skewMs: 3000 }))).toEqual(ACCEPTED);
    expect(await verdict(await token(user.userId, 600, { skewMs: 60_000 }))).toEqual(REFUSED);
    expect(await verdict(await token(user.userId, 600, { nbf: new Date(Date.now() + 3000).toISOString() }))).toEqual(ACCEPTED);
    expect(await verdict(await token(user.userId, 600, { nbf: new Date(Date.now() + 60_000).toISOString() }))).toEqual(REFUSED);
    // Expired two seconds ago (issued 62 s ago for 60 s): refused, leeway or not.
    expect(await verdict(await token(user.userId, 60, { skewMs: -62_000 }))).toEqual(REFUSED);
  });
});
