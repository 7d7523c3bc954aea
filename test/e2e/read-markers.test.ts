/**
 * Read markers and unread counts (#16) over a real server: Connect (HTTP/1.1 JSON), gRPC
 * (@grpc/grpc-js) and REST (fetch) — monotonic markers, unread counts in ListRooms and
 * ListDirectMessages, own messages not counted, the cap, other users' conversations refused,
 * and bad ids answered with a clear code and message. And the `read` frame: a mark in one
 * session reaches the user's direct-message streams in their other sessions — over every RPC
 * protocol, SSE and WebSocket, on a node with its default worker count — once per mark that moved
 * the marker, to nobody else, and never again on resume.
 */
import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { type ReadState, ReadStateSchema } from "../../gen/chat/v1/types_pb.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, unary } from "../support/grpc-js-client.js";
import { nextLoopbackAddress } from "../support/loopback.js";
import { startServer, type TestServer } from "../support/server.js";
import { ANY_PROTOCOLS, type AnyProtocol, openAnyStream, type SeenFrame, type SeenStream } from "../support/any-edge-streams.js";

type User = Awaited<ReturnType<typeof newUser>>;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

async function roomOf(owner: User): Promise<string> {
  return (await owner.clients.rooms.createRoom({ name: uniqueName("reads") })).room!.roomId;
}

async function post(user: User, roomId: string, count = 1): Promise<string[]> {
  const posted: string[] = [];
  for (let i = 0; i < count; i++) posted.push((await user.clients.messages.postMessage({ roomId, text: `n${i}` })).message!.messageId);
  return posted;
}

/** The caller's read state of one room, as ListRooms reports it (its page holds every room). */
async function listedState(user: User, roomId: string): Promise<ReadState> {
  const listed = await user.clients.rooms.listRooms({ pageSize: 1000 });
  expect(listed.readStates).toHaveLength(listed.rooms.length);
  const at = listed.rooms.findIndex((room) => room.roomId === roomId);
  expect(listed.readStates[at]?.channel).toEqual({ case: "roomId", value: roomId });
  return listed.readStates[at]!;
}

async function connectCode(promise: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
  return { code: error.code, message: error.rawMessage };
}

async function rest(path: string, token: string | undefined, body: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers["authorization"] = `Bearer ${token}`;
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

describe("rooms over Connect", () => {
  it("keep the newest marker (mark 5, then 3: stays 5) and count others' posts after it, never the caller's own", async () => {
    const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
    const roomId = await roomOf(alice);
    expect(await listedState(alice, roomId)).toMatchObject({ lastReadMessageId: "0", unreadCount: 0, moreUnread: false });
    const sent = await post(bob, roomId, 6);
    expect(await listedState(alice, roomId)).toMatchObject({ lastReadMessageId: "0", unreadCount: 6 });

    const five = await alice.clients.messages.markRoomRead({ roomId, messageId: sent[4]! });
    expect(five.readState).toMatchObject({ channel: { case: "roomId", value: roomId }, lastReadMessageId: sent[4], unreadCount: 1 });
    const three = await alice.clients.messages.markRoomRead({ roomId, messageId: sent[2]! });
    expect(three.readState).toMatchObject({ lastReadMessageId: sent[4], unreadCount: 1 });
    expect(await listedState(alice, roomId)).toMatchObject({ lastReadMessageId: sent[4], unreadCount: 1 });
    // Bob's own posts are never unread to him; Alice's post reads the room for her.
    expect(await listedState(bob, roomId)).toMatchObject({ unreadCount: 0 });
    await post(alice, roomId);
    expect(await listedState(alice, roomId)).toMatchObject({ lastReadMessageId: sent[4], unreadCount: 0 });
    expect(await listedState(bob, roomId)).toMatchObject({ unreadCount: 1 });
  });

  it("stop counting at 100 and say there are more", async () => {
    // Two posters, so neither passes the per-user burst (100) a user's node allows.
    const [alice, bob, carol] = [await newUser(server.url), await newUser(server.url), await newUser(server.url)];
    const roomId = await roomOf(alice);
    const [first] = await post(bob, roomId, 60);
    await post(carol, roomId, 40);
    expect(await listedState(alice, roomId)).toMatchObject({ unreadCount: 100, moreUnread: false });
    await post(carol, roomId, 1);
    expect(await listedState(alice, roomId)).toMatchObject({ unreadCount: 100, moreUnread: true });
    const marked = await alice.clients.messages.markRoomRead({ roomId, messageId: first! });
    expect(marked.readState).toMatchObject({ unreadCount: 100, moreUnread: false });
  });

  it("refuse bad ids with INVALID_ARGUMENT, and a missing room or a message of another room with NOT_FOUND", async () => {
    const alice = await newUser(server.url);
    const [roomId, otherRoomId] = [await roomOf(alice), await roomOf(alice)];
    const [elsewhere] = await post(alice, otherRoomId);
    for (const messageId of ["abc", "0", "", "-5", "9223372036854775808"]) {
      const refused = await connectCode(alice.clients.messages.markRoomRead({ roomId, messageId }));
      expect(refused.code, messageId).toBe(Code.InvalidArgument);
      expect(refused.message, messageId).toMatch(/message_id/);
    }
    expect(await connectCode(alice.clients.messages.markRoomRead({ roomId, messageId: elsewhere! }))).toEqual({
      code: Code.NotFound, message: `message ${elsewhere} is not in room ${roomId}`,
    });
    const missing = await connectCode(alice.clients.messages.markRoomRead({ roomId: "12345", messageId: elsewhere! }));
    expect(missing).toEqual({ code: Code.NotFound, message: "room 12345 does not exist" });
  });
});

describe("direct conversations over Connect", () => {
  it("mark the caller's own conversation, report unread per peer, and refuse other users' conversations", async () => {
    const [alice, bob, carol] = [await newUser(server.url), await newUser(server.url), await newUser(server.url)];
    const dm = async (from: User, to: User, text: string): Promise<string> =>
      (await from.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: to.user.userId }, text })).message!.messageId;
    const fromBob = [await dm(bob, alice, "one"), await dm(bob, alice, "two")];
    await dm(carol, alice, "hi");
    const bobToCarol = await dm(bob, carol, "not for alice");

    const inbox = await alice.clients.messages.listDirectMessages({});
    expect(inbox.readStates.map((s) => [s.channel.value, s.unreadCount])).toEqual([[carol.user.userId, 1], [bob.user.userId, 2]]);
    const marked = await alice.clients.messages.markDirectMessagesRead({ withUserId: bob.user.userId, messageId: fromBob[0]! });
    expect(marked.readState).toMatchObject({ channel: { case: "withUserId", value: bob.user.userId }, lastReadMessageId: fromBob[0], unreadCount: 1 });
    const withBob = await alice.clients.messages.listDirectMessages({ withUserId: bob.user.userId });
    expect(withBob.readStates.map((s) => [s.channel.value, s.lastReadMessageId, s.unreadCount])).toEqual([[bob.user.userId, fromBob[0], 1]]);
    await dm(alice, bob, "read you");
    expect((await alice.clients.messages.listDirectMessages({ withUserId: bob.user.userId })).readStates[0]?.unreadCount).toBe(0);

    // Bob and Carol's message is not in any conversation of Alice's, whichever peer she names.
    for (const peer of [bob, carol]) {
      const refused = await connectCode(alice.clients.messages.markDirectMessagesRead({ withUserId: peer.user.userId, messageId: bobToCarol }));
      expect(refused.code).toBe(Code.NotFound);
    }
    expect((await carol.clients.messages.listDirectMessages({ withUserId: bob.user.userId })).readStates[0]?.unreadCount).toBe(1);
  });
});

describe("over gRPC (@grpc/grpc-js)", () => {
  it("marks a room read and answers NOT_FOUND for a message outside it", async () => {
    const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
    const roomId = await roomOf(alice);
    const [first, second] = await post(bob, roomId, 2);
    const client = grpcJsClient(MessageService, new URL(server.url).host);
    try {
      const marked = await unary<{ readState: ReadState }>(client, "markRoomRead", { roomId, messageId: second }, bearer(alice.token));
      expect(marked.readState).toMatchObject({ lastReadMessageId: second, unreadCount: 0 });
      const again = await unary<{ readState: ReadState }>(client, "markRoomRead", { roomId, messageId: first }, bearer(alice.token));
      expect(again.readState.lastReadMessageId).toBe(second);
      const refused = await unary(client, "markRoomRead", { roomId: await roomOf(alice), messageId: first }, bearer(alice.token)).catch((e: ServiceError) => e);
      expect((refused as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});

describe("over REST", () => {
  it("POST /rooms/{roomId}/read answers the read state; 400 for a bad id, 404 outside the room, 401 without a token", async () => {
    const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
    const roomId = await roomOf(alice);
    const sent = await post(bob, roomId, 3);
    const marked = await rest(`/rooms/${roomId}/read`, alice.token, { messageId: sent[2] });
    expect(marked).toEqual({ status: 200, body: { roomId, lastReadMessageId: sent[2], unreadCount: 0, moreUnread: false } });
    const back = await rest(`/rooms/${roomId}/read`, alice.token, { messageId: sent[0] });
    expect(back).toEqual({ status: 200, body: { roomId, lastReadMessageId: sent[2], unreadCount: 0, moreUnread: false } });

    const bad = await rest(`/rooms/${roomId}/read`, alice.token, { messageId: "12x" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: "invalid_argument", message: expect.stringMatching(/message_id/) });
    expect((await rest(`/rooms/abc/read`, alice.token, { messageId: sent[0] })).status).toBe(400);
    const outside = await rest(`/rooms/${await roomOf(alice)}/read`, alice.token, { messageId: sent[0] });
    expect(outside).toEqual({ status: 404, body: { code: "not_found", message: expect.stringContaining(sent[0]!) } });
    expect((await rest(`/rooms/${roomId}/read`, undefined, { messageId: sent[0] })).status).toBe(401);
  });

  it("POST /me/messages/{withUserId}/read marks my conversation and refuses another's with 404", async () => {
    const [alice, bob, carol] = [await newUser(server.url), await newUser(server.url), await newUser(server.url)];
    const toAlice = (await bob.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: alice.user.userId }, text: "hey" })).message!.messageId;
    const marked = await rest(`/me/messages/${bob.user.userId}/read`, alice.token, { messageId: toAlice });
    expect(marked).toEqual({ status: 200, body: { withUserId: bob.user.userId, lastReadMessageId: toAlice, unreadCount: 0, moreUnread: false } });
    const notHers = await rest(`/me/messages/${bob.user.userId}/read`, carol.token, { messageId: toAlice });
    expect(notHers).toEqual({ status: 404, body: { code: "not_found", message: expect.stringContaining("conversation") } });
  });
});

const json = (state: ReadState): JsonValue => toJson(ReadStateSchema, state, { alwaysEmitImplicit: true });

/** Opens `token`'s direct-message stream over `protocol` (from `since`, or from now). */
const openDirect = (protocol: AnyProtocol, token: string, since = ""): SeenStream => openAnyStream(server.url, protocol, token, { direct: true }, since);

/** The frames that carry something (heartbeats left out: they come when they come). */
const shown = (frames: SeenFrame[]) => frames.filter((f) => f.case !== "heartbeat").map((f) => (f.case === "read" ? { case: "read", read: f.read } : { case: f.case, id: f.id }));

describe("read frames", () => {
  for (const protocol of ANY_PROTOCOLS) {
    it(`over ${protocol}: a mark reaches the user's stream in another session once, nobody else's, and is not replayed on resume`, async () => {
      const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
      // Alice's second session: a sign-in of its own (another token), as a second device.
      const secondSession = await chatClients(server.url, undefined, "connect-json", nextLoopbackAddress()).auth.signIn({ username: alice.user.username, password: alice.password });
      expect(secondSession.accessToken).not.toBe(alice.token);
      const roomId = await roomOf(alice);
      const sent = await post(bob, roomId, 3);
      const dm = async (from: User, to: User, text: string) =>
        (await from.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: to.user.userId }, text })).message!.messageId;
      const d0 = await dm(bob, alice, "before");

      const alices = openDirect(protocol, secondSession.accessToken);
      const bobs = openDirect(protocol, bob.token);
      await Promise.all([alices, bobs].map((s) => s.until((f) => f.some((x) => x.case === "ready"), "ready")));

      const roomRead = (await alice.clients.messages.markRoomRead({ roomId, messageId: sent[1]! })).readState!;
      expect(roomRead).toMatchObject({ lastReadMessageId: sent[1], unreadCount: 1 });
      await alices.until((f) => f.some((x) => x.case === "read"), "the room's read frame");
      // An older message: the marker stays, nothing is sent.
      await alice.clients.messages.markRoomRead({ roomId, messageId: sent[0]! });
      const conversationRead = (await alice.clients.messages.markDirectMessagesRead({ withUserId: bob.user.userId, messageId: d0 })).readState!;
      const d1 = await dm(bob, alice, "after");
      await alices.until((f) => f.some((x) => x.id === d1), "the message after the marks");
      expect(shown(alices.frames())).toEqual([
        { case: "ready", id: d0 },
        { case: "read", read: json(roomRead) },
        { case: "read", read: json(conversationRead) },
        { case: "message", id: d1 },
      ]);
      expect(json(conversationRead)).toEqual({ withUserId: bob.user.userId, lastReadMessageId: d0, unreadCount: 0, moreUnread: false });
      const reads = alices.frames().filter((f) => f.case === "read");
      // No `id:` on a read event (this EventSource reports each event's own id), so the
      // Last-Event-ID it would resume with stays the last message's.
      if (protocol === "sse") expect(reads.map((f) => f.id)).toEqual(["", ""]);
      // On a socket, a read frame names the subscription that carried it, as Ready and Gap do.
      if (protocol === "websocket") expect(reads.map((f) => f.dms)).toEqual([true, true]);

      // Bob's stream got none of Alice's read states: after his next message, still nothing but it.
      const toBob = await dm(alice, bob, "hi bob");
      await bobs.until((f) => f.some((x) => x.id === toBob), "bob's message");
      expect(shown(bobs.frames()).map((f) => f.case)).toEqual(["ready", "message"]);

      // Resuming from before the marks replays the messages after `since`, and no read frame.
      alices.close();
      const resumed = openDirect(protocol, secondSession.accessToken, d0);
      await resumed.until((f) => f.some((x) => x.id === d1), "the replay");
      const d2 = await dm(bob, alice, "live again");
      await resumed.until((f) => f.some((x) => x.id === d2), "the live message");
      expect(shown(resumed.frames())).toEqual([
        { case: "ready", id: d0 },
        { case: "message", id: d1 },
        { case: "message", id: d2 },
      ]);
      for (const s of [resumed, bobs]) s.close();
    });
  }
});
