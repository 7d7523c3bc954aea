/** Everything survives a restart on the same data directory; shutdown on SIGTERM is clean. */
import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { startServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";

describe("persistence", () => {
  it("keeps users, rooms, messages, DMs and revocations across a restart", async () => {
    const first = await startServer();
    const alice = await newUser(first.url);
    const bob = await newUser(first.url);
    const roomName = uniqueName("durable");
    const { room } = await alice.clients.rooms.createRoom({ name: roomName });
    await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "kept" });
    await alice.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: bob.user.userId }, text: "kept dm" });
    const revoked = await newUser(first.url);
    await revoked.clients.auth.signOut({});
    const code = await first.stop();
    expect(code).toBe(0);
    expect(first.output()).toContain('"msg":"parley stopped"');

    const second = await startServer({ dataDir: first.dataDir });
    try {
      // Alice's token from before the restart still works: same signing key, same store.
      const a = chatClients(second.url, alice.token);
      expect((await a.rooms.getRoom({ roomId: room!.roomId })).room?.name).toBe(roomName);
      expect((await a.messages.listMessages({ roomId: room!.roomId })).messages.map((m) => m.text)).toEqual(["kept"]);
      const b = chatClients(second.url, bob.token);
      expect((await b.messages.listDirectMessages({})).messages.map((m) => m.text)).toEqual(["kept dm"]);
      await expect(chatClients(second.url).auth.signIn({ username: alice.user.username, password: alice.password })).resolves.toBeTruthy();
      await expect(chatClients(second.url, revoked.token).auth.getMe({})).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(a.rooms.createRoom({ name: roomName.toUpperCase() })).rejects.toMatchObject({ code: Code.AlreadyExists });
      // New ids keep growing after the restart.
      const next = await a.messages.postMessage({ roomId: room!.roomId, text: "after" });
      const all = await a.messages.listMessages({ roomId: room!.roomId });
      expect(all.messages[0]?.messageId).toBe(next.message?.messageId);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it("ends open streams on SIGTERM and exits 0", async () => {
    const server = await startServer();
    const alice = await newUser(server.url, "grpc");
    const { room } = await alice.clients.rooms.createRoom({ name: uniqueName("term") });
    const it = alice.clients.messages.subscribeRoom({ roomId: room!.roomId })[Symbol.asyncIterator]();
    expect((await it.next()).value?.frame.case).toBe("ready");
    const stopped = server.stop();
    // The stream ends with the drain's UNAVAILABLE "reconnect" status — not a bare end, not a broken
    // connection (what a crash looks like) — and does not hang (the 8 s bound fails the test).
    const ended = await Promise.race([
      (async () => {
        try {
          while (!(await it.next()).done);
          return { end: "clean" };
        } catch (error) {
          const e = ConnectError.from(error);
          return { end: "error", code: e.code, message: e.rawMessage };
        }
      })(),
      new Promise((r) => setTimeout(() => r({ end: "hung" }), 8000)),
    ]);
    expect(ended).toEqual({ end: "error", code: Code.Unavailable, message: "server is stopping: reconnect" });
    expect(await stopped).toBe(0);
  });
});
