/** Negative paths: every way a token can be bad, unknown ids, taken names, invalid input, privacy. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { forgeToken, otherKey, serverKey } from "../support/forge-token.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

describe("authentication", () => {
  // A token revoked by sign-out: worker-counts.test.ts, under each worker count.
  it("rejects a missing, garbage, truncated, foreign-key and expired token with UNAUTHENTICATED", async () => {
    const alice = await newUser(server.url);
    const claims = { sub: alice.user.userId, name: alice.user.username, jti: "forged-1" };
    const tokens = {
      missing: undefined,
      garbage: "not-a-token",
      truncated: alice.token.slice(0, -10),
      foreignKey: await forgeToken(otherKey(), claims, 3600),
      expired: await forgeToken(serverKey(server.dataDir), claims, 60, new Date(Date.now() - 3600_000)),
    };
    for (const [why, token] of Object.entries(tokens)) {
      const client = chatClients(server.url, token);
      await expect(client.auth.getMe({}), why).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(client.rooms.listRooms({}), why).rejects.toMatchObject({ code: Code.Unauthenticated });
    }
    // A token signed by the server's own key and not expired is accepted: the checks above are real.
    const valid = await forgeToken(serverKey(server.dataDir), claims, 60);
    expect((await chatClients(server.url, valid).auth.getMe({})).user?.userId).toBe(alice.user.userId);
  });

  it("does not tell a wrong password from an unknown user", async () => {
    const alice = await newUser(server.url);
    const anon = chatClients(server.url);
    const wrong = await anon.auth.signIn({ username: alice.user.username, password: "wrong password" }).catch((e: unknown) => e);
    const unknown = await anon.auth.signIn({ username: uniqueName("ghost"), password: "wrong password" }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: Code.Unauthenticated });
    expect(unknown).toMatchObject({ code: Code.Unauthenticated, rawMessage: (wrong as { rawMessage: string }).rawMessage });
  });

  it("treats usernames case-insensitively for uniqueness and sign-in", async () => {
    const name = uniqueName("Case");
    const anon = chatClients(server.url);
    await anon.auth.signUp({ username: name, password: "password one" });
    await expect(anon.auth.signUp({ username: name.toLowerCase(), password: "password two" })).rejects.toMatchObject({ code: Code.AlreadyExists });
    const signedIn = await anon.auth.signIn({ username: name.toUpperCase(), password: "password one" });
    expect(signedIn.user?.username).toBe(name);
  });
});

describe("rooms and messages", () => {
  it("answers NOT_FOUND for unknown rooms and users", async () => {
    const alice = await newUser(server.url);
    await expect(alice.clients.rooms.getRoom({ roomId: "12345" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(alice.clients.messages.postMessage({ roomId: "12345", text: "hi" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(alice.clients.messages.listMessages({ roomId: "12345" })).rejects.toMatchObject({ code: Code.NotFound });
    const stream = alice.clients.messages.subscribeRoom({ roomId: "12345" });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.NotFound });
    await expect(
      alice.clients.messages.sendDirectMessage({ recipient: { case: "recipientUsername", value: uniqueName("nobody") }, text: "hi" }),
    ).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("refuses a room name taken in another letter case or normalisation form", async () => {
    const alice = await newUser(server.url);
    const base = uniqueName("général");
    await alice.clients.rooms.createRoom({ name: base });
    for (const variant of [base.toUpperCase(), base.normalize("NFD"), `  ${base}  `]) {
      await expect(alice.clients.rooms.createRoom({ name: variant }), variant).rejects.toMatchObject({ code: Code.AlreadyExists });
    }
  });

  it("rejects each invalid input with INVALID_ARGUMENT and stores nothing", async () => {
    const alice = await newUser(server.url);
    const anon = chatClients(server.url);
    const { room } = await alice.clients.rooms.createRoom({ name: uniqueName("valid") });
    const roomId = room!.roomId;
    const before = (await alice.clients.rooms.listRooms({ pageSize: 1000 })).rooms.length;
    const invalid: Array<[string, () => Promise<unknown>]> = [
      ["short username", () => anon.auth.signUp({ username: "ab", password: "long enough" })],
      ["username with space", () => anon.auth.signUp({ username: "a b c", password: "long enough" })],
      ["short password", () => anon.auth.signUp({ username: uniqueName(), password: "short" })],
      ["empty room name", () => alice.clients.rooms.createRoom({ name: "" })],
      ["blank room name", () => alice.clients.rooms.createRoom({ name: "   " })],
      ["control char in room name", () => alice.clients.rooms.createRoom({ name: "bad\u0007name" })],
      ["too long room name", () => alice.clients.rooms.createRoom({ name: "x".repeat(65) })],
      ["empty text", () => alice.clients.messages.postMessage({ roomId, text: "" })],
      ["blank text", () => alice.clients.messages.postMessage({ roomId, text: " \n\t " })],
      ["huge text", () => alice.clients.messages.postMessage({ roomId, text: "y".repeat(4001) })],
      ["room id not a number", () => alice.clients.messages.postMessage({ roomId: "../etc", text: "hi" })],
      ["bad cursor", () => alice.clients.messages.listMessages({ roomId, before: "abc" })],
      ["page too big", () => alice.clients.messages.listMessages({ roomId, pageSize: 5000 })],
      ["no recipient", () => alice.clients.messages.sendDirectMessage({ text: "hi" })],
      ["bad client id", () => alice.clients.messages.postMessage({ roomId, text: "hi", clientMessageId: "has space" })],
    ];
    for (const [why, call] of invalid) {
      await expect(call(), why).rejects.toMatchObject({ code: Code.InvalidArgument });
    }
    expect((await alice.clients.rooms.listRooms({ pageSize: 1000 })).rooms.length).toBe(before);
    expect((await alice.clients.messages.listMessages({ roomId })).messages).toHaveLength(0);
    expect((await alice.clients.messages.listDirectMessages({})).messages).toHaveLength(0);
  });

  it("lets nobody read another user's direct messages", async () => {
    const alice = await newUser(server.url);
    const bob = await newUser(server.url);
    const eve = await newUser(server.url);
    await alice.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: bob.user.userId }, text: "secret" });
    expect((await eve.clients.messages.listDirectMessages({})).messages).toHaveLength(0);
    expect((await eve.clients.messages.listDirectMessages({ withUserId: alice.user.userId })).messages).toHaveLength(0);
    expect((await eve.clients.messages.listDirectMessages({ withUserId: bob.user.userId })).messages).toHaveLength(0);
    expect((await bob.clients.messages.listDirectMessages({})).messages.map((m) => m.text)).toEqual(["secret"]);
    // Eve's DM stream carries only her own inbox.
    const controller = new AbortController();
    const it = eve.clients.messages.subscribeDirectMessages({ since: "0" }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.frame.case).toBe("ready");
    await alice.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: bob.user.userId }, text: "secret 2" });
    await alice.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: eve.user.userId }, text: "for eve" });
    const next = await it.next();
    expect(next.value?.frame.case === "message" && next.value.frame.value.text).toBe("for eve");
    controller.abort();
  });
});
