/**
 * The live room list (#16), RoomService.WatchRooms, over a real server on its default worker
 * count (a room created on one worker reaches watchers on every worker through the node's bus):
 * on every RPC protocol, SSE (GET /rooms/watch) and WebSocket (the route's socket and /ws with
 * "rooms": true) — Ready first, then rooms created by someone else, each once; a resume with
 * `since` replays the rooms created after it (from a grace window before it, oldest first) and
 * goes on live; a malformed `since` is INVALID_ARGUMENT / 400; no credentials UNAUTHENTICATED /
 * 401; /rooms/watch is the literal route, not GET /rooms/{room_id}.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";
import { ANY_PROTOCOLS, type AnyProtocol, openAnyStream, type SeenFrame, type SeenStream } from "../support/any-edge-streams.js";
import { STREAM_PROTOCOLS, subscribe } from "../support/stream-subscribers.js";

type User = Awaited<ReturnType<typeof newUser>>;

let server: TestServer;
let watcher: User;
let creator: User;
beforeAll(async () => {
  server = await startServer();
  [watcher, creator] = await Promise.all([newUser(server.url), newUser(server.url)]);
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const watch = (protocol: AnyProtocol, since = ""): SeenStream => openAnyStream(server.url, protocol, watcher.token, { rooms: true }, since);

/** Creates a room as `creator` over `protocol` (another worker may answer it than the watcher's). */
async function createRoom(prefix: string, protocol: "connect-json" | "grpc" | "grpc-web" = "connect-json") {
  return (await chatClients(server.url, creator.token, protocol).rooms.createRoom({ name: uniqueName(prefix) })).room!;
}

const rooms = (frames: SeenFrame[]) => frames.filter((f) => f.case === "room");
const readyFirst = (frames: SeenFrame[]) => frames.length > 0 && frames[0]!.case === "ready";

describe.each(ANY_PROTOCOLS)("WatchRooms over %s", (protocol) => {
  it("sends Ready first, then each room created by someone else, once, as it is created", async () => {
    const stream = watch(protocol);
    try {
      await stream.until(readyFirst, "Ready");
      const [a, b] = [await createRoom("live", "grpc"), await createRoom("live", "grpc-web")];
      await stream.until((f) => rooms(f).some((r) => r.id === b.roomId), `room ${b.roomId}`);
      const frames = stream.frames();
      expect(frames[0]!.case).toBe("ready");
      const mine = rooms(frames).filter((r) => r.id === a.roomId || r.id === b.roomId);
      expect(mine.map((r) => ({ id: r.id, name: r.name }))).toEqual([
        { id: a.roomId, name: a.name },
        { id: b.roomId, name: b.name },
      ]);
      // A live stream without `since` replays nothing: every room frame is one created after it opened.
      const ids = rooms(frames).map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      if (protocol === "sse") expect(mine.map((r) => r.eventId)).toEqual([a.roomId, b.roomId]);
      if (protocol === "websocket") expect(mine.every((r) => r.rooms === true)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it("resumes with since: replays the rooms created after it, oldest first, then goes on live", async () => {
    const first = await createRoom("before");
    const [second, third] = [await createRoom("after"), await createRoom("after")];
    const stream = watch(protocol, first.roomId);
    try {
      await stream.until((f) => rooms(f).some((r) => r.id === third.roomId), "the replay");
      const live = await createRoom("live");
      await stream.until((f) => rooms(f).some((r) => r.id === live.roomId), "the live room");
      const frames = stream.frames();
      expect(frames[0]).toMatchObject({ case: "ready", ...(protocol === "sse" ? {} : { id: first.roomId }) });
      const ids = rooms(frames).map((r) => r.id);
      expect(new Set(ids).size, "each room once").toBe(ids.length);
      // The replay is in id order, and covers the grace window: `first` itself comes again.
      const replayed = ids.slice(0, ids.indexOf(third.roomId) + 1);
      expect(replayed).toEqual([...replayed].sort((x, y) => (BigInt(x!) < BigInt(y!) ? -1 : 1)));
      expect(replayed).toEqual(expect.arrayContaining([first.roomId, second.roomId, third.roomId]));
      expect(ids.indexOf(live.roomId)).toBeGreaterThan(ids.indexOf(third.roomId));
    } finally {
      stream.close();
    }
  });
});

describe("WatchRooms refusals", () => {
  it.each(STREAM_PROTOCOLS)("%s: INVALID_ARGUMENT for a malformed since, UNAUTHENTICATED without a token", async (protocol) => {
    const bad = subscribe(protocol, server.url, watcher.token, { rooms: true, since: "01" });
    expect(await bad.ended).toMatchObject({ code: Code.InvalidArgument, message: expect.stringMatching(/since/) });
    const anonymous = subscribe(protocol, server.url, undefined, { rooms: true });
    expect((await anonymous.ended).code).toBe(Code.Unauthenticated);
  });

  it("SSE: 400 for a malformed since (query or Last-Event-ID), 401 without credentials", async () => {
    const sse = { accept: "text/event-stream", authorization: `Bearer ${watcher.token}` };
    const badQuery = await fetch(`${server.url}/rooms/watch?since=abc`, { headers: sse });
    expect(badQuery.status).toBe(400);
    expect(await badQuery.json()).toMatchObject({ code: "invalid_argument" });
    const badLastEventId = await fetch(`${server.url}/rooms/watch`, { headers: { ...sse, "last-event-id": "-1" } });
    expect(badLastEventId.status).toBe(400);
    await badLastEventId.body?.cancel();
    const anonymous = await fetch(`${server.url}/rooms/watch`, { headers: { accept: "text/event-stream" } });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });

  it("/ws: a room-list subscription beside a room's gets ready and room frames named rooms:true", async () => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${watcher.token}` } });
    const frames: Record<string, unknown>[] = [];
    const arrived = new Set<() => void>();
    ws.on("message", (data) => {
      frames.push(JSON.parse(data.toString()) as Record<string, unknown>);
      for (const wake of [...arrived]) wake();
    });
    const until = (check: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(frames)}`)), 10_000);
        const wake = () => {
          if (!check()) return;
          clearTimeout(timer);
          arrived.delete(wake);
          resolve();
        };
        arrived.add(wake);
        wake();
      });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    try {
      const lobby = await createRoom("lobby");
      ws.send(JSON.stringify({ type: "subscribe", rooms: true }));
      ws.send(JSON.stringify({ type: "subscribe", room_id: lobby.roomId }));
      await until(() => frames.filter((f) => f["type"] === "ready").length === 2);
      expect(frames.find((f) => f["type"] === "ready" && f["rooms"] === true)).toMatchObject({ position: expect.stringMatching(/^[1-9][0-9]*$/), heartbeat_interval: expect.any(String) });
      const room = await createRoom("muxed");
      const isMuxed = (f: Record<string, unknown>) => f["type"] === "room" && (f["room"] as { roomId?: string }).roomId === room.roomId;
      await until(() => frames.some(isMuxed));
      // `lobby` may come too: created just before the subscription, its bus event can reach this worker after it registered.
      expect(frames.filter(isMuxed)).toEqual([{ type: "room", rooms: true, room: expect.objectContaining({ roomId: room.roomId, name: room.name }) }]);
    } finally {
      ws.close();
    }
  });

  it("/ws: an error frame for a malformed since; the socket stays open; unsubscribe acks", async () => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${watcher.token}` } });
    const byRef = new Map<string, (frame: Record<string, unknown>) => void>();
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame["ref"] !== undefined) byRef.get(String(frame["ref"]))?.(frame);
    });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const ask = (frame: Record<string, unknown>) =>
      new Promise<Record<string, unknown>>((resolve) => {
        byRef.set(String(frame["ref"]), resolve);
        ws.send(JSON.stringify(frame));
      });
    try {
      expect(await ask({ type: "subscribe", rooms: true, since: "x", ref: "bad" })).toMatchObject({ type: "error", code: "invalid_argument", ref: "bad" });
      expect(await ask({ type: "subscribe", rooms: true, room_id: "1", ref: "both" })).toMatchObject({ type: "error", code: "invalid_argument" });
      expect(await ask({ type: "unsubscribe", rooms: true, ref: "off" })).toEqual({ type: "ack", ref: "off", rooms: true });
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
    }
  });

  it("GET /rooms/watch is the room list's route, not GetRoom with room_id 'watch': 202 with how to open the stream", async () => {
    const res = await fetch(`${server.url}/rooms/watch`, { headers: { authorization: `Bearer ${watcher.token}` } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { position: string; transports: { connect: { procedure: string }; websocketMultiplexed: { send: unknown } } };
    expect(body.position).toMatch(/^[1-9][0-9]*$/);
    expect(body.transports.connect.procedure).toBe("/chat.v1.RoomService/WatchRooms");
    expect(body.transports.websocketMultiplexed.send).toEqual({ type: "subscribe", rooms: true, since: body.position });
  });
});
