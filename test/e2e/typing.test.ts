/**
 * Typing indicators (#16) over a real server on its default worker count: SetTyping reaches the
 * other subscribers of the room — over every RPC protocol, SSE and WebSocket — as the exact
 * `typing` frame (who, until = now + 6 s, stopped), never the typist's own stream, once per 2 s
 * (the throttle), and never again on resume; SetDirectTyping reaches the peer's direct-message
 * streams and nobody else's; unknown rooms and users are NOT_FOUND, malformed ids
 * INVALID_ARGUMENT; REST answers 204.
 */
import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Typing, TypingSchema } from "../../gen/chat/v1/types_pb.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";
import { ANY_PROTOCOLS, type AnyProtocol, openAnyStream, type SeenFrame, type SeenStream, type StreamTarget } from "../support/any-edge-streams.js";

type User = Awaited<ReturnType<typeof newUser>>;

/** The frame's `until` is this far after the call (services/typing.ts TYPING_TTL_MS). */
const TTL_MS = 6_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

async function roomOf(owner: User): Promise<string> {
  return (await owner.clients.rooms.createRoom({ name: uniqueName("typing") })).room!.roomId;
}

/**
 * The typist's calls over one gRPC (HTTP/2) connection: one worker of the node answers them all,
 * so they meet one throttle (it is kept per process, services/typing.ts).
 */
function typistOf(user: User) {
  return chatClients(server.url, user.token, "grpc").messages;
}

async function connectCode(promise: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
  return { code: error.code, message: error.rawMessage };
}

const json = (typing: Typing): JsonValue => toJson(TypingSchema, typing, { alwaysEmitImplicit: true });

/** Opens `token`'s stream of `target` over `protocol` (from `since`, or from now). */
const open = (protocol: AnyProtocol, token: string, target: StreamTarget, since = ""): SeenStream => openAnyStream(server.url, protocol, token, target, since);

/** The frames that carry something (heartbeats left out), typing frames as their JSON. */
const shown = (frames: SeenFrame[]) =>
  frames.filter((f) => f.case !== "heartbeat").map((f) => (f.case === "typing" ? { case: "typing", typing: f.typing } : { case: f.case, id: f.id }));

/** Checks a typing frame's `until` lies `ttl` after a moment between `before` and `after`, and returns the frame without it. */
function withoutUntil(typing: JsonValue | undefined, before: number, after: number, ttl: number): JsonValue {
  const { until, ...rest } = typing as { until: string } & Record<string, JsonValue>;
  const at = Date.parse(until);
  // The server's clock is this machine's; RFC 3339 in JSON keeps milliseconds.
  expect(at).toBeGreaterThanOrEqual(before + ttl);
  expect(at).toBeLessThanOrEqual(after + ttl);
  return rest;
}

const ready = (s: SeenStream) => s.until((f) => f.some((x) => x.case === "ready"), "ready");

describe("typing in a room", () => {
  for (const protocol of ANY_PROTOCOLS) {
    it(`over ${protocol}: reaches the other subscribers once per 2 s with the exact frame, not the typist's stream, a stop goes through, nothing on resume`, async () => {
      const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
      const roomId = await roomOf(alice);
      const first = (await alice.clients.messages.postMessage({ roomId, text: "first" })).message!.messageId;
      const bobs = open(protocol, bob.token, { roomId });
      const alices = open(protocol, alice.token, { roomId });
      await Promise.all([bobs, alices].map(ready));

      const typist = typistOf(alice);
      const before = Date.now();
      expect(await typist.setTyping({ roomId })).toBeDefined();
      const after = Date.now();
      // Within 2 s of the first: answered OK, published nothing.
      await typist.setTyping({ roomId });
      await bobs.until((f) => f.some((x) => x.case === "typing"), "the typing frame");
      const m1 = (await alice.clients.messages.postMessage({ roomId, text: "typed" })).message!.messageId;
      await bobs.until((f) => f.some((x) => x.id === m1), "alice's message");

      const stopBefore = Date.now();
      await typist.setTyping({ roomId, stopped: true });
      const stopAfter = Date.now();
      await bobs.until((f) => f.filter((x) => x.case === "typing").length === 2, "the stop");
      const m2 = (await alice.clients.messages.postMessage({ roomId, text: "after the stop" })).message!.messageId;
      await Promise.all([bobs, alices].map((s) => s.until((f) => f.some((x) => x.id === m2), "the last message")));

      const bobSaw = shown(bobs.frames());
      expect(bobSaw.map((f) => f.case)).toEqual(["ready", "typing", "message", "typing", "message"]);
      const started = withoutUntil(bobSaw[1]!.typing, before, after, TTL_MS);
      const stopped = withoutUntil(bobSaw[3]!.typing, stopBefore, stopAfter, 0);
      const user = { userId: alice.user.userId, username: alice.user.username };
      expect(started).toEqual({ roomId, user, stopped: false });
      expect(stopped).toEqual({ roomId, user, stopped: true });
      expect(bobSaw.filter((f) => f.case === "message").map((f) => f.id)).toEqual([m1, m2]);
      const typings = bobs.frames().filter((f) => f.case === "typing");
      // No `id:` on a typing event: the Last-Event-ID a reconnect sends stays the last message's.
      if (protocol === "sse") expect(typings.map((f) => f.id)).toEqual(["", ""]);
      // On a socket, a typing frame names the room, as Ready and Gap do.
      if (protocol === "websocket") expect(typings.map((f) => f.roomId)).toEqual([roomId, roomId]);

      // The typist's own stream: the messages, never her own typing.
      expect(shown(alices.frames()).map((f) => f.case)).toEqual(["ready", "message", "message"]);

      // A resume from before the typing replays the messages and no typing frame.
      bobs.close();
      const resumed = open(protocol, bob.token, { roomId }, first);
      await resumed.until((f) => f.some((x) => x.id === m2), "the replay");
      expect(shown(resumed.frames())).toEqual([
        { case: "ready", id: first },
        { case: "message", id: m1 },
        { case: "message", id: m2 },
      ]);
      for (const s of [resumed, alices]) s.close();
    });
  }
});

describe("typing in a direct conversation", () => {
  for (const protocol of ANY_PROTOCOLS) {
    it(`over ${protocol}: reaches the peer's direct-message streams only`, async () => {
      const [alice, bob, carol] = [await newUser(server.url), await newUser(server.url), await newUser(server.url)];
      const streams = [bob, carol, alice].map((u) => open(protocol, u.token, { direct: true }));
      const [bobs, carols, alices] = streams as [SeenStream, SeenStream, SeenStream];
      await Promise.all(streams.map(ready));

      const before = Date.now();
      await typistOf(alice).setDirectTyping({ withUserId: bob.user.userId });
      const after = Date.now();
      await bobs.until((f) => f.some((x) => x.case === "typing"), "the typing frame");
      // Then a message to each: whatever typing frame was coming has come before it.
      const dm = async (from: User, to: User) =>
        (await from.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: to.user.userId }, text: "hi" })).message!.messageId;
      const [toBob, toCarol, toAlice] = [await dm(alice, bob), await dm(alice, carol), await dm(bob, alice)];
      await bobs.until((f) => f.some((x) => x.id === toBob), "bob's message");
      await carols.until((f) => f.some((x) => x.id === toCarol), "carol's message");
      await alices.until((f) => f.some((x) => x.id === toAlice), "alice's message");

      const bobSaw = shown(bobs.frames());
      expect(bobSaw.map((f) => f.case)).toEqual(["ready", "typing", "message"]);
      expect(withoutUntil(bobSaw[1]!.typing, before, after, TTL_MS)).toEqual({
        withUserId: alice.user.userId,
        user: { userId: alice.user.userId, username: alice.user.username },
        stopped: false,
      });
      if (protocol === "websocket") expect(bobs.frames().find((f) => f.case === "typing")?.dms).toBe(true);
      for (const other of [carols, alices]) expect(shown(other.frames()).map((f) => f.case)).toEqual(["ready", "message"]);
      for (const s of streams) s.close();
    });
  }
});

describe("refusals", () => {
  it("NOT_FOUND for an unknown room or user, INVALID_ARGUMENT for malformed ids (Connect)", async () => {
    const alice = await newUser(server.url);
    expect(await connectCode(alice.clients.messages.setTyping({ roomId: "12345" }))).toEqual({ code: Code.NotFound, message: "room 12345 does not exist" });
    expect(await connectCode(alice.clients.messages.setDirectTyping({ withUserId: "12345" }))).toEqual({ code: Code.NotFound, message: "user 12345 does not exist" });
    for (const id of ["abc", "0", "", "-5", "9223372036854775808"]) {
      const room = await connectCode(alice.clients.messages.setTyping({ roomId: id }));
      expect(room.code, id).toBe(Code.InvalidArgument);
      expect(room.message, id).toMatch(/room_id/);
      const user = await connectCode(alice.clients.messages.setDirectTyping({ withUserId: id }));
      expect(user.code, id).toBe(Code.InvalidArgument);
      expect(user.message, id).toMatch(/with_user_id/);
    }
  });

  it("over REST: 204 for a room and a user, 404 unknown, 400 malformed, 401 without a token", async () => {
    const [alice, bob] = [await newUser(server.url), await newUser(server.url)];
    const roomId = await roomOf(alice);
    const post = async (path: string, token: string | undefined, body: unknown = {}) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers["authorization"] = `Bearer ${token}`;
      const response = await fetch(`${server.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    expect(await post(`/rooms/${roomId}/typing`, alice.token)).toEqual({ status: 204, body: undefined });
    expect(await post(`/rooms/${roomId}/typing`, alice.token, { stopped: true })).toEqual({ status: 204, body: undefined });
    expect(await post(`/me/messages/${bob.user.userId}/typing`, alice.token)).toEqual({ status: 204, body: undefined });
    expect(await post(`/rooms/12345/typing`, alice.token)).toEqual({ status: 404, body: { code: "not_found", message: "room 12345 does not exist" } });
    expect(await post(`/me/messages/12345/typing`, alice.token)).toEqual({ status: 404, body: { code: "not_found", message: "user 12345 does not exist" } });
    const bad = await post(`/rooms/abc/typing`, alice.token);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: "invalid_argument", message: expect.stringMatching(/room_id/) });
    expect((await post(`/rooms/${roomId}/typing`, undefined)).status).toBe(401);
  });
});
