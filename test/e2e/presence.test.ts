/**
 * Presence (#16) over a real server on its default worker count: a room stream that asks
 * (`presence`) gets a snapshot right after Ready and then the batched joins and leaves of other
 * users' streams — over every RPC protocol, SSE and WebSocket — with the exact count; a stream
 * that does not ask gets none; GetRoomPresence (RPC and REST) lists who has the room open; bad
 * input is refused and changes nothing.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { newUser, uniqueName } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";
import { ANY_PROTOCOLS, type AnyProtocol, openAnyStream, type SeenFrame, type SeenStream } from "../support/any-edge-streams.js";

type User = Awaited<ReturnType<typeof newUser>>;

let server: TestServer;
let alice: User;
let bob: User;
beforeAll(async () => {
  server = await startServer();
  [alice, bob] = await Promise.all([newUser(server.url), newUser(server.url)]);
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

async function newRoom(): Promise<string> {
  return (await alice.clients.rooms.createRoom({ name: uniqueName("presence") })).room!.roomId;
}

const open = (protocol: AnyProtocol, user: User, roomId: string, presence: boolean): SeenStream =>
  openAnyStream(server.url, protocol, user.token, { roomId, presence });

interface PresenceJson {
  roomId: string;
  count: number;
  joined: { userId: string; username: string }[];
  left: { userId: string; username: string }[];
  snapshot: boolean;
  truncated: boolean;
}
const presences = (frames: SeenFrame[]) => frames.filter((f) => f.case === "presence").map((f) => f.presence as unknown as PresenceJson);
const sender = (u: User) => ({ userId: u.user.userId, username: u.user.username });

/** Polls GetRoomPresence (REST) until it reports `count` users. */
async function restPresence(roomId: string, token = alice.token): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}/rooms/${roomId}/presence`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

async function untilCount(roomId: string, count: number): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 10_000; ) {
    const { count: now } = await alice.clients.rooms.getRoomPresence({ roomId });
    if (now === count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`room ${roomId} never had ${count} users present`);
}

describe.each(ANY_PROTOCOLS)("presence frames over %s", (protocol) => {
  it("a snapshot after Ready, then others joining and leaving, batched, with the exact count; a stream that did not ask gets none", async () => {
    const roomId = await newRoom();
    const watcher = open(protocol, alice, roomId, true);
    await watcher.until((f) => presences(f).length >= 1, "the snapshot");
    const [ready, first] = watcher.frames().filter((f) => f.case !== "heartbeat");
    expect(ready!.case).toBe("ready");
    expect(presences([first!])[0]).toMatchObject({ roomId, snapshot: true, truncated: false, left: [] });
    // Alice's own stream makes her present, one batch later.
    await watcher.until((f) => presences(f).some((p) => p.count === 1 && p.joined.some((m) => m.userId === alice.user.userId)), "alice herself joined");

    const other = open("grpc", bob, roomId, false);
    await watcher.until((f) => presences(f).some((p) => p.count === 2), "bob joined");
    const joined = presences(watcher.frames()).find((p) => p.count === 2)!;
    expect(joined).toEqual({ roomId, count: 2, joined: [sender(bob)], left: [], snapshot: false, truncated: false });
    expect(await restPresence(roomId)).toEqual({ status: 200, body: { count: 2, users: [sender(alice), sender(bob)].sort((a, b) => (a.username < b.username ? -1 : 1)) } });

    other.close();
    await watcher.until((f) => presences(f).some((p) => p.left.length > 0), "bob left");
    expect(presences(watcher.frames()).at(-1)).toEqual({ roomId, count: 1, joined: [], left: [sender(bob)], snapshot: false, truncated: false });
    watcher.close();
    await untilCount(roomId, 0);
    // A stream that did not ask saw messages' frames only.
    expect(other.frames().filter((f) => f.case === "presence")).toEqual([]);
  });
});

describe("presence", () => {
  it("the snapshot lists who was there before the stream opened; two streams of one user count once", async () => {
    const roomId = await newRoom();
    const first = open("connect-json", bob, roomId, false);
    const second = open("websocket", bob, roomId, false);
    await untilCount(roomId, 1);
    const watcher = open("sse", alice, roomId, true);
    await watcher.until((f) => presences(f).length >= 1, "the snapshot");
    expect(presences(watcher.frames())[0]).toEqual({ roomId, count: 1, joined: [sender(bob)], left: [], snapshot: true, truncated: false });
    first.close();
    // Bob still has a stream open: he stays (alice joins meanwhile).
    await watcher.until((f) => presences(f).some((p) => p.count === 2), "alice joined");
    await untilCount(roomId, 2);
    second.close();
    await watcher.until((f) => presences(f).some((p) => p.left.some((m) => m.userId === bob.user.userId)), "bob left with his last stream");
    watcher.close();
  });

  it("GetRoomPresence: NOT_FOUND for an unknown room, INVALID_ARGUMENT for a malformed id, UNAUTHENTICATED without a token", async () => {
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
      return error.code;
    };
    expect(await refused(alice.clients.rooms.getRoomPresence({ roomId: "9223372036854775807" }))).toBe(Code.NotFound);
    expect(await refused(alice.clients.rooms.getRoomPresence({ roomId: "01" }))).toBe(Code.InvalidArgument);
    expect((await restPresence("9223372036854775807")).status).toBe(404);
    expect((await restPresence("abc")).status).toBe(400);
    expect((await fetch(`${server.url}/rooms/1/presence`)).status).toBe(401);
  });

  it("SSE refuses a malformed presence parameter with 400; /ws refuses presence on a direct-message subscription and a non-boolean one, and stays open", async () => {
    const roomId = await newRoom();
    const sse = await fetch(`${server.url}/room/${roomId}/subscribe?presence=maybe`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(sse.status).toBe(400);
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${alice.token}` } });
    const replies: { type: string; message?: string; ref?: string }[] = [];
    ws.on("message", (data) => replies.push(JSON.parse(data.toString()) as { type: string }));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ type: "subscribe", dms: true, presence: true, ref: "a" }));
    ws.send(JSON.stringify({ type: "subscribe", room_id: roomId, presence: "yes", ref: "b" }));
    ws.send(JSON.stringify({ type: "subscribe", room_id: roomId, presence: true, ref: "c" }));
    for (const started = Date.now(); !replies.some((r) => r.type === "presence") && Date.now() - started < 10_000; ) await new Promise((r) => setTimeout(r, 20));
    expect(replies.filter((r) => r.type === "error").map((r) => [r.ref, r.message])).toEqual([
      ["a", '"presence" is for a room: direct-message streams have none'],
      ["b", '"presence" must be true or false when given'],
    ]);
    expect(replies.some((r) => r.type === "presence")).toBe(true);
    ws.close();
  });
});
