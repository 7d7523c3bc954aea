/**
 * A revocation that reaches a node by the store alone — as when another node signed the token out
 * while the bus was down — still ends that token's open streams there: the node's revocation sweep
 * (REVOCATION_SWEEP_SECONDS) finds it. The "other node" here is this test process writing the
 * revocation into the server's SQLite file; the server's bus never carries it.
 */
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { newUser } from "../support/clients.js";
import { collect } from "../support/frames.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { REVOCATION_SWEEP_SECONDS: "1" } });
});
afterAll(async () => {
  await server.stop();
});

/** The token id (jti) and expiry a PASETO v4.public token carries (its payload is signed, not encrypted). */
function claimsOf(token: string): { jti: string; exp: string } {
  const signed = Buffer.from(token.split(".")[2]!, "base64url");
  return JSON.parse(signed.subarray(0, signed.length - 64).toString("utf8")) as { jti: string; exp: string };
}

describe("revocations from the store", () => {
  it("end the token's open streams with UNAUTHENTICATED without a bus event", async () => {
    const user = await newUser(server.url, "grpc");
    const room = (await user.clients.rooms.createRoom({ name: `sweep${Date.now().toString(36)}` })).room!;
    const roomStream = user.clients.messages.subscribeRoom({ roomId: room.roomId })[Symbol.asyncIterator]();
    const dmStream = user.clients.messages.subscribeDirectMessages({})[Symbol.asyncIterator]();
    await collect(roomStream, (c) => c.cases.includes("ready"));
    await collect(dmStream, (c) => c.cases.includes("ready"));

    const { jti, exp } = claimsOf(user.token);
    const otherNode = new SqliteStore({ file: join(server.dataDir, "parley.sqlite"), synchronous: "NORMAL" });
    try {
      await otherNode.revokeToken(jti, Date.parse(exp));
    } finally {
      await otherNode.close();
    }

    await expect(collect(roomStream, () => false, 15_000)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(collect(dmStream, () => false, 15_000)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(user.clients.auth.getMe({})).rejects.toMatchObject({ code: Code.Unauthenticated });
  });
});
