/**
 * WebSocket with the `ws` client: the subscribe paths and the multiplexed /ws socket — frames,
 * posting, per-request errors, close codes (4400, 4408, 1001; 4401 on sign-out:
 * worker-counts.test.ts), Origin checks, tickets, ping/pong liveness, resume after a dropped
 * connection, and a slow reader.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";

type Json = Record<string, unknown>;

/** Emits "frame" whenever any test socket receives a frame or closes: waits re-check then, no polling. */
const arrivals = new EventEmitter();
arrivals.setMaxListeners(0);

/** Resolves once `check()` holds, re-checked on each frame or close; fails after `timeoutMs`. */
async function until(check: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const onFrame = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      arrivals.off("frame", onFrame);
    };
    arrivals.on("frame", onFrame);
  });
}

interface Client {
  readonly ws: WebSocket;
  readonly frames: Json[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(frame: Json | string): void;
  /** Resolves with the first frame (from `from` on) that matches. */
  next(match: (f: Json) => boolean, what: string, timeoutMs?: number): Promise<Json>;
  messages(): { text: string; messageId: string; roomId?: string; recipientUserId?: string }[];
}

function wsUrl(httpUrl: string, path: string): string {
  return `${httpUrl.replace(/^http/, "ws")}${path}`;
}

/** Opens a socket; resolves once open, rejects with the HTTP status of a refused upgrade. */
function connect(url: string, headers: Record<string, string> = {}, options: { autoPong?: boolean } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...options });
    const frames: Json[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once("close", (code, reason) => {
        r({ code, reason: reason.toString() });
        arrivals.emit("frame");
      }),
    );
    ws.on("message", (data) => {
      frames.push(JSON.parse(data.toString()) as Json);
      arrivals.emit("frame");
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
    ws.once("open", () =>
      resolve({
        ws,
        frames,
        closed,
        send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
        next: async (match, what, timeoutMs = 10_000) => {
          await until(() => frames.some(match), () => `${what}; got ${JSON.stringify(frames)}`, timeoutMs);
          return frames.find(match)!;
        },
        messages: () => frames.filter((f) => f["type"] === "message").map((f) => f["message"] as ReturnType<Client["messages"]>[number]),
      }),
    );
  });
}

async function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  try {
    const client = await connect(url, headers);
    client.ws.close();
  } catch (error) {
    const e = error as { status?: number; body?: string };
    if (e.status !== undefined) return { status: e.status, body: JSON.parse(e.body ?? "null") as unknown };
    throw error;
  }
  throw new Error("the upgrade was accepted");
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { HEARTBEAT_SECONDS: "1", CORS_ORIGINS: "https://app.example.com" } });
});
afterAll(async () => {
  await server?.stop();
});

describe("WebSocket on the subscribe paths", () => {
  it("sends ready, then each message once, in order, as the REST JSON", async () => {
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("ws") });
    const roomId = room!.roomId;
    const c = await connect(wsUrl(server.url, `/room/${roomId}/subscribe`), bearer(a.token));
    expect(await c.next((f) => f["type"] === "ready", "ready")).toEqual({ type: "ready", room_id: roomId, position: "0", heartbeat_interval: "1s" });
    for (let i = 0; i < 5; i++) await a.clients.messages.postMessage({ roomId, text: `w${i}` });
    await until(() => c.messages().length >= 5, "5 messages");
    expect(c.messages().map((m) => m.text)).toEqual(["w0", "w1", "w2", "w3", "w4"]);
    const rest = await fetch(`${server.url}/room/${roomId}/messages?limit=1`, { headers: bearer(a.token) });
    expect(c.messages()[4]).toEqual(((await rest.json()) as unknown[])[0]);
    await c.next((f) => f["type"] === "heartbeat", "a heartbeat");
    c.ws.close();
  });

  it("delivers my direct messages on /me/subscribe", async () => {
    const a = await newUser(server.url);
    const b = await newUser(server.url);
    const c = await connect(wsUrl(server.url, "/me/subscribe"), bearer(a.token));
    await c.next((f) => f["type"] === "ready", "ready");
    await b.clients.messages.sendDirectMessage({ recipient: { case: "recipientUsername", value: a.user.username }, text: "hey" });
    await until(() => c.messages().length >= 1, "the DM");
    expect(c.messages()[0]).toEqual(expect.objectContaining({ text: "hey", recipientUserId: a.user.userId }));
    c.ws.close();
  });

  it("resumes after a dropped connection with ?since=: no gap, no duplicate", async () => {
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("wsresume") });
    const roomId = room!.roomId;
    const first = await connect(wsUrl(server.url, `/room/${roomId}/subscribe`), bearer(a.token));
    await first.next((f) => f["type"] === "ready", "ready");
    for (let i = 0; i < 3; i++) await a.clients.messages.postMessage({ roomId, text: `a${i}` });
    await until(() => first.messages().length >= 3, "3 messages");
    first.ws.terminate();
    const last = first.messages().at(-1)!.messageId;
    for (let i = 0; i < 3; i++) await a.clients.messages.postMessage({ roomId, text: `b${i}` });
    const second = await connect(wsUrl(server.url, `/room/${roomId}/subscribe?since=${last}`), bearer(a.token));
    await second.next((f) => f["type"] === "ready", "ready");
    await a.clients.messages.postMessage({ roomId, text: "c0" });
    await until(() => second.messages().length >= 4, "the missed and the live messages");
    expect([...first.messages(), ...second.messages()].map((m) => m.text)).toEqual(["a0", "a1", "a2", "b0", "b1", "b2", "c0"]);
    second.ws.close();
  });

  it("refuses before the handshake: 401 without credentials, 404 for a missing room or path, 400 for a bad id", async () => {
    const a = await newUser(server.url);
    expect(await refusal(wsUrl(server.url, "/me/subscribe"))).toEqual({ status: 401, body: { code: "unauthenticated", message: expect.any(String) } });
    expect((await refusal(wsUrl(server.url, "/room/77777777/subscribe"), bearer(a.token))).status).toBe(404);
    expect((await refusal(wsUrl(server.url, "/rooms"), bearer(a.token))).status).toBe(404);
    expect((await refusal(wsUrl(server.url, "/room/abc/subscribe"), bearer(a.token))).status).toBe(400);
  });

  it("closes 4400 when a client sends on a receive-only socket", async () => {
    const a = await newUser(server.url);
    const c = await connect(wsUrl(server.url, "/me/subscribe"), bearer(a.token));
    c.send({ type: "post" });
    expect((await c.closed).code).toBe(4400);
  });
});

describe("the multiplexed /ws socket", () => {
  it("subscribes to rooms and DMs, posts, and acknowledges", async () => {
    const a = await newUser(server.url);
    const b = await newUser(server.url);
    const { room: r1 } = await a.clients.rooms.createRoom({ name: uniqueName("mx") });
    const { room: r2 } = await a.clients.rooms.createRoom({ name: uniqueName("mx") });
    const c = await connect(wsUrl(server.url, "/ws"), bearer(a.token));
    c.send({ type: "subscribe", room_id: r1!.roomId, ref: "s1" });
    c.send({ type: "subscribe", room_id: r2!.roomId });
    c.send({ type: "subscribe", dms: true });
    await c.next((f) => f["type"] === "ready" && f["room_id"] === r1!.roomId, "ready r1");
    await c.next((f) => f["type"] === "ready" && f["room_id"] === r2!.roomId, "ready r2");
    await c.next((f) => f["type"] === "ready" && f["dms"] === true, "ready dms");
    c.send({ type: "post", room_id: r1!.roomId, text: "from the socket", client_message_id: "cm-1", ref: "p1" });
    const ack = await c.next((f) => f["type"] === "ack" && f["ref"] === "p1", "the ack");
    expect(ack).toEqual({ type: "ack", ref: "p1", client_message_id: "cm-1", message: expect.objectContaining({ text: "from the socket", roomId: r1!.roomId, clientMessageId: "cm-1" }) });
    await b.clients.messages.postMessage({ roomId: r2!.roomId, text: "in r2" });
    await b.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: a.user.userId }, text: "dm for a" });
    c.send({ type: "dm", to_username: b.user.username, text: "dm for b", ref: "d1" });
    await c.next((f) => f["type"] === "ack" && f["ref"] === "d1", "the dm ack");
    await until(() => c.messages().length >= 3, "three messages");
    expect(c.messages().map((m) => m.text)).toEqual(["from the socket", "in r2", "dm for a"]);
    c.send({ type: "unsubscribe", room_id: r2!.roomId, ref: "u1" });
    await c.next((f) => f["type"] === "ack" && f["ref"] === "u1", "the unsubscribe ack");
    await b.clients.messages.postMessage({ roomId: r2!.roomId, text: "not delivered" });
    await b.clients.messages.postMessage({ roomId: r1!.roomId, text: "delivered" });
    await until(() => c.messages().length >= 4, "the r1 message");
    expect(c.messages().map((m) => m.text)).not.toContain("not delivered");
    c.ws.close();
  });

  it("answers bad requests with error frames and keeps the socket open", async () => {
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("mxerr") });
    const c = await connect(wsUrl(server.url, "/ws"), bearer(a.token));
    c.send({ type: "subscribe", room_id: "88888888", ref: "e1" });
    c.send({ type: "subscribe", room_id: "../etc", ref: "e2" });
    c.send({ type: "post", room_id: room!.roomId, text: "", ref: "e3" });
    c.send({ type: "post", room_id: room!.roomId, text: 42, ref: "e4" });
    c.send({ type: "post", room_id: room!.roomId, text: "x", admin: true, ref: "e5" });
    c.send({ type: "dm", to_username: uniqueName("ghost"), text: "x", ref: "e6" });
    c.send({ type: "subscribe", room_id: room!.roomId, ref: "ok" });
    c.send({ type: "subscribe", room_id: room!.roomId, ref: "e7" });
    const code = async (ref: string) => (await c.next((f) => f["type"] === "error" && f["ref"] === ref, ref))["code"];
    expect(await code("e1")).toBe("not_found");
    expect(await code("e2")).toBe("invalid_argument");
    expect(await code("e3")).toBe("invalid_argument");
    expect(await code("e4")).toBe("invalid_argument");
    expect(await code("e5")).toBe("invalid_argument");
    expect(await code("e6")).toBe("not_found");
    expect(await code("e7")).toBe("already_exists");
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.send("this is not json");
    expect(await c.closed).toEqual({ code: 4400, reason: "frame is not valid JSON" });
  });

  it("accepts a single-use ticket and refuses it the second time", async () => {
    const a = await newUser(server.url);
    const res = await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: bearer(a.token) });
    const { ticket } = (await res.json()) as { ticket: string };
    const c = await connect(wsUrl(server.url, `/ws?ticket=${ticket}`));
    c.send({ type: "subscribe", dms: true });
    await c.next((f) => f["type"] === "ready", "ready");
    expect((await refusal(wsUrl(server.url, `/ws?ticket=${ticket}`))).status).toBe(401);
    c.ws.close();
  });

  it("drops a peer that stops answering pings", async () => {
    const a = await newUser(server.url);
    const c = await connect(wsUrl(server.url, "/ws"), bearer(a.token), { autoPong: false });
    const { code } = await c.closed;
    expect(code).toBe(1006);
  });
});

describe("Origin checks on upgrades (cross-site WebSocket hijacking)", () => {
  it("refuses other origins, allows the same origin and configured ones", async () => {
    const a = await newUser(server.url);
    const evil = await refusal(wsUrl(server.url, "/ws"), { ...bearer(a.token), origin: "https://evil.example" });
    expect(evil).toEqual({ status: 403, body: { code: "permission_denied", message: expect.any(String) } });
    const same = await connect(wsUrl(server.url, "/ws"), { ...bearer(a.token), origin: server.url });
    const listed = await connect(wsUrl(server.url, "/ws"), { ...bearer(a.token), origin: "https://app.example.com" });
    same.ws.close();
    listed.ws.close();
  });

  it("takes the session cookie only from trusted origins, even with CORS_ORIGINS=*", async () => {
    const open = await startServer({ env: { CORS_ORIGINS: "*" } });
    try {
      const a = await newUser(open.url);
      const signIn = await fetch(`${open.url}/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: a.user.username, password: a.password }),
      });
      const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
      expect((await refusal(wsUrl(open.url, "/ws"), { cookie, origin: "https://evil.example" })).status).toBe(403);
      const same = await connect(wsUrl(open.url, "/ws"), { cookie, origin: open.url });
      const anyOriginWithToken = await connect(wsUrl(open.url, "/ws"), { ...bearer(a.token), origin: "https://evil.example" });
      same.ws.close();
      anyOriginWithToken.ws.close();
    } finally {
      await open.stop();
    }
  });
});

describe("WebSocket with a slow reader, and on shutdown", () => {
  it("closes 4408 when the reader falls behind; it resumes from its last id", async () => {
    const slow = await startServer({ raisedLimits: "one user posts hundreds of 16 KB messages as fast as the node takes them, to overflow a slow reader; the per-user limit would pace the poster instead", env: { STREAM_SEND_BUFFER_BYTES: "1024", SLOW_CLIENT_SECONDS: "1", STREAM_QUEUE_LIMIT: "5" } });
    try {
      const a = await newUser(slow.url);
      const { room } = await a.clients.rooms.createRoom({ name: uniqueName("wsslow") });
      const roomId = room!.roomId;
      const c = await connect(wsUrl(slow.url, `/room/${roomId}/subscribe`), bearer(a.token));
      await c.next((f) => f["type"] === "ready", "ready");
      const socket = (c.ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const text = "😀".repeat(4000);
      const posted: string[] = [];
      for (let batch = 0; batch < 40; batch++) {
        const results = await Promise.all(Array.from({ length: 25 }, () => a.clients.messages.postMessage({ roomId, text })));
        posted.push(...results.map((r) => r.message!.messageId));
        if (/parley_stream_queue_drops_total [1-9]/.test(await (await fetch(`${slow.url}/metrics`)).text())) break;
      }
      socket.resume();
      expect((await c.closed).code).toBe(4408);
      const got = c.messages().map((m) => m.messageId);
      // Concurrent posts of one batch get their ids in any order: compare against id order.
      expect(got).toEqual([...posted].sort().slice(0, got.length));
      const again = await connect(wsUrl(slow.url, `/room/${roomId}/subscribe?since=${got.at(-1) ?? "0"}`), bearer(a.token));
      await until(() => got.length + again.messages().length >= posted.length, "the rest", 20_000);
      expect([...got, ...again.messages().map((m) => m.messageId)]).toEqual([...posted].sort());
      again.ws.close();
    } finally {
      await slow.stop();
    }
  }, 60_000);

  it("closes every socket with 1001 on graceful shutdown", async () => {
    const own = await startServer();
    const a = await newUser(own.url);
    const mx = await connect(wsUrl(own.url, "/ws"), bearer(a.token));
    mx.send({ type: "subscribe", dms: true });
    await mx.next((f) => f["type"] === "ready", "ready");
    const single = await connect(wsUrl(own.url, "/me/subscribe"), bearer(a.token));
    await single.next((f) => f["type"] === "ready", "ready");
    const metrics = await (await fetch(`${own.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_open_streams\{transport="ws"\} 2/);
    const exit = own.stop();
    expect((await mx.closed).code).toBe(1001);
    expect((await single.closed).code).toBe(1001);
    expect(await exit).toBe(0);
  });
});
