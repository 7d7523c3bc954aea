/**
 * Every chat.v1 RPC over the two reference client stacks: @grpc/grpc-js (gRPC over HTTP/2)
 * and connect-node's Connect transport over HTTP/1.1 with JSON — against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, serverStream, unary } from "../support/grpc-js-client.js";
import { status as GrpcStatus } from "@grpc/grpc-js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe("Connect JSON over HTTP/1.1", () => {
  it("signs up, in, creates and lists rooms, posts, lists, sends and lists DMs, signs out", async () => {
    const alice = await newUser(server.url);
    const bob = await newUser(server.url);
    const me = await alice.clients.auth.getMe({});
    expect(me.user?.username).toBe(alice.user.username);
    const ticket = await alice.clients.auth.createStreamTicket({});
    expect(ticket.ticket).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(ticket.ticket).not.toContain(alice.token);

    const name = uniqueName("room");
    const { room } = await alice.clients.rooms.createRoom({ name });
    expect(room?.name).toBe(name);
    expect(room?.createdBy).toBe(alice.user.userId);
    const got = await bob.clients.rooms.getRoom({ roomId: room!.roomId });
    expect(got.room?.name).toBe(name);
    const listed = await bob.clients.rooms.listRooms({ pageSize: 1000 });
    expect(listed.rooms.map((r) => r.roomId)).toContain(room!.roomId);

    const first = await bob.clients.messages.postMessage({ roomId: room!.roomId, text: "hello" });
    const second = await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "hi bob" });
    expect(BigInt(second.message!.messageId) > BigInt(first.message!.messageId)).toBe(true);
    const history = await alice.clients.messages.listMessages({ roomId: room!.roomId });
    expect(history.messages.map((m) => m.text)).toEqual(["hi bob", "hello"]);
    const older = await alice.clients.messages.listMessages({ roomId: room!.roomId, before: second.message!.messageId });
    expect(older.messages.map((m) => m.text)).toEqual(["hello"]);
    const newer = await alice.clients.messages.listMessages({ roomId: room!.roomId, after: first.message!.messageId });
    expect(newer.messages.map((m) => m.text)).toEqual(["hi bob"]);

    const dm = await alice.clients.messages.sendDirectMessage({
      recipient: { case: "recipientUsername", value: bob.user.username },
      text: "psst",
    });
    expect(dm.message?.target).toEqual({ case: "recipientUserId", value: bob.user.userId });
    await bob.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: alice.user.userId }, text: "yes?" });
    const inbox = await bob.clients.messages.listDirectMessages({});
    expect(inbox.messages.map((m) => m.text)).toEqual(["psst"]);
    const conversation = await bob.clients.messages.listDirectMessages({ withUserId: alice.user.userId });
    expect(conversation.messages.map((m) => m.text)).toEqual(["yes?", "psst"]);

    await alice.clients.auth.signOut({});
    await expect(alice.clients.auth.getMe({})).rejects.toMatchObject({ code: 16 });
  });

  it("pages rooms with opaque next_page_token", async () => {
    const alice = await newUser(server.url);
    // The rooms other tests made, in one page (few enough for the default page of 100).
    const before = await alice.clients.rooms.listRooms({});
    expect(before.nextPageToken).toBe("");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await alice.clients.rooms.createRoom({ name: uniqueName("page") })).room!.roomId);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await alice.clients.rooms.listRooms({ pageSize: 2, pageToken });
      expect(page.rooms.length).toBeLessThanOrEqual(2);
      seen.push(...page.rooms.map((r) => r.roomId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Exactly every room, oldest first, none lost or repeated at a page boundary.
    expect(seen).toEqual([...before.rooms.map((r) => r.roomId), ...created]);
    await expect(alice.clients.rooms.listRooms({ pageSize: 2, pageToken: "bm90LWEtdG9rZW4" })).rejects.toMatchObject({ code: 3 });
  });

  it("returns the first message for a repeated client_message_id", async () => {
    const alice = await newUser(server.url);
    const { room } = await alice.clients.rooms.createRoom({ name: uniqueName("idem") });
    const a = await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "once", clientMessageId: "k-1" });
    const b = await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "once", clientMessageId: "k-1" });
    expect(b.message?.messageId).toBe(a.message?.messageId);
    const listed = await alice.clients.messages.listMessages({ roomId: room!.roomId });
    expect(listed.messages).toHaveLength(1);
  });
});

describe("gRPC over HTTP/2 with @grpc/grpc-js", () => {
  it("serves every RPC", async () => {
    const address = `127.0.0.1:${server.port}`;
    const auth = grpcJsClient(AuthService, address);
    const rooms = grpcJsClient(RoomService, address);
    const messages = grpcJsClient(MessageService, address);
    const username = uniqueName("grpc");
    const password = "grpc password 1";
    await unary(auth, "signUp", { username, password });
    const signIn = await unary<{ accessToken: string; user: { userId: string } }>(auth, "signIn", { username, password });
    const md = bearer(signIn.accessToken);
    const me = await unary<{ user: { username: string } }>(auth, "getMe", {}, md);
    expect(me.user.username).toBe(username);
    const created = await unary<{ room: { roomId: string } }>(rooms, "createRoom", { name: uniqueName("grpc-room") }, md);
    await unary(rooms, "getRoom", { roomId: created.room.roomId }, md);
    const list = await unary<{ rooms: unknown[] }>(rooms, "listRooms", {}, md);
    expect(list.rooms.length).toBeGreaterThan(0);

    const stream = serverStream<{ frame: { case: string; value: { text?: string } } }>(messages, "subscribeRoom", { roomId: created.room.roomId }, md);
    const frames: string[] = [];
    let gotReady!: () => void;
    const ready = new Promise<void>((resolve) => (gotReady = resolve));
    const gotMessage = new Promise<void>((resolve) =>
      stream.on("data", (res) => {
        frames.push(res.frame.case);
        if (res.frame.case === "ready") gotReady();
        if (res.frame.case === "message") resolve();
      }),
    );
    stream.on("error", () => {});
    // Posting before `ready` could race the subscription; the server sends `ready` once it is live.
    await ready;
    await unary(messages, "postMessage", { roomId: created.room.roomId, text: "over grpc" }, md);
    await gotMessage;
    expect(frames.slice(0, 2)).toEqual(["ready", "message"]);
    stream.cancel();

    const listed = await unary<{ messages: { text: string }[] }>(messages, "listMessages", { roomId: created.room.roomId }, md);
    expect(listed.messages.map((m) => m.text)).toEqual(["over grpc"]);
    await unary(messages, "sendDirectMessage", { recipient: { case: "recipientUserId", value: signIn.user.userId }, text: "note to self" }, md);
    const inbox = await unary<{ messages: { text: string }[] }>(messages, "listDirectMessages", {}, md);
    expect(inbox.messages.map((m) => m.text)).toEqual(["note to self"]);
    const dms = serverStream<{ frame: { case: string } }>(messages, "subscribeDirectMessages", {}, md);
    const first = await new Promise<string>((resolve) => dms.once("data", (res) => resolve(res.frame.case)));
    expect(first).toBe("ready");
    dms.cancel();
    dms.on("error", () => {});

    await unary(auth, "signOut", {}, md);
    await expect(unary(auth, "getMe", {}, md)).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    auth.close();
    rooms.close();
    messages.close();
  });
});

describe("gRPC-Web", () => {
  it("streams a room subscription", async () => {
    const alice = await newUser(server.url, "grpc-web");
    const { room } = await alice.clients.rooms.createRoom({ name: uniqueName("web") });
    const controller = new AbortController();
    const stream = alice.clients.messages.subscribeRoom({ roomId: room!.roomId }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const ready = await iterator.next();
    expect(ready.value?.frame.case).toBe("ready");
    await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "via grpc-web" });
    const next = await iterator.next();
    expect(next.value?.frame.case === "message" && next.value.frame.value.text).toBe("via grpc-web");
    controller.abort();
  });
});

describe("anonymous access", () => {
  it("allows only sign-up and sign-in without a token", async () => {
    const anon = chatClients(server.url);
    await expect(anon.rooms.listRooms({})).rejects.toMatchObject({ code: 16 });
    await expect(anon.auth.getMe({})).rejects.toMatchObject({ code: 16 });
    await expect(anon.messages.postMessage({ roomId: "1", text: "x" })).rejects.toMatchObject({ code: 16 });
  });
});
