/**
 * Connection timeouts (issue #11, item 3), against a real server with short limits: silent
 * sockets, slowloris request lines, slow bodies, idle keep-alive connections, h2c prefaces with
 * nothing after them, idle and pinged h2c sessions and stalled HTTP/2 request bodies are all
 * closed within their configured time — while SSE, WebSocket, gRPC and Connect streams opened
 * before stay open across the whole period, quiet for longer than any of those limits between
 * their heartbeats.
 */
import { connect as h2Connect, constants as h2 } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, uniqueName } from "../support/clients.js";
import { type LiveSocket, type LiveStream, openSse, openWs, probe, trickle } from "../support/connection-probes.js";
import { startServer, type TestServer } from "../support/server.js";
import { type Subscriber, subscribe } from "../support/stream-subscribers.js";

const FIRST_BYTES_MS = 1000;
const HEADERS_MS = 2000;
const REQUEST_MS = 3000;
const KEEP_ALIVE_MS = 1000;
const H2_IDLE_MS = 2000;
/** Longer than every limit above: the streams are quiet for longer than any of them at a time. */
const HEARTBEAT_MS = 4000;
/** What a deadline may take beyond its time on this shared 2-core machine: sweep, scheduling, load. */
const SLACK_MS = 4000;
/** How many connections each probe opens at once. */
const MANY = 20;

let server: TestServer;
let sse: LiveStream;
let ws: LiveSocket;
let grpc: Subscriber;
let connect: Subscriber;
let beatsBefore: number[];
const ended: string[] = [];

function beats(): number[] {
  const heartbeats = (s: Subscriber) => s.frames.filter((f) => f.case === "heartbeat").length;
  return [sse.heartbeats(), ws.heartbeats(), heartbeats(grpc), heartbeats(connect)];
}

beforeAll(async () => {
  server = await startServer({
    env: {
      FIRST_BYTES_TIMEOUT_SECONDS: String(FIRST_BYTES_MS / 1000),
      HEADERS_TIMEOUT_SECONDS: String(HEADERS_MS / 1000),
      REQUEST_TIMEOUT_SECONDS: String(REQUEST_MS / 1000),
      KEEP_ALIVE_TIMEOUT_SECONDS: String(KEEP_ALIVE_MS / 1000),
      H2_IDLE_TIMEOUT_SECONDS: String(H2_IDLE_MS / 1000),
      HEARTBEAT_SECONDS: String(HEARTBEAT_MS / 1000),
    },
  });
  const user = await newUser(server.url);
  const { room } = await user.clients.rooms.createRoom({ name: uniqueName("quiet") });
  const path = `/room/${room!.roomId}/subscribe`;
  sse = await openSse(server.url, path, user.token);
  ws = await openWs(server.url, path, user.token);
  await ws.next((f) => f["type"] === "ready");
  grpc = subscribe("grpc-js", server.url, user.token, { roomId: room!.roomId });
  connect = subscribe("connect-json", server.url, user.token, { roomId: room!.roomId });
  await Promise.all([grpc.until((f) => f.some((x) => x.case === "ready")), connect.until((f) => f.some((x) => x.case === "ready"))]);
  void grpc.ended.then((end) => ended.push(`grpc ${JSON.stringify(end)}`));
  void connect.ended.then((end) => ended.push(`connect ${JSON.stringify(end)}`));
  beatsBefore = beats();
});

afterAll(async () => {
  sse?.close();
  ws?.close();
  grpc?.cancel();
  connect?.cancel();
  await server?.stop();
});

/** Every connection of `closings` closed no sooner than `atLeastMs` and within `limitMs` + slack. */
async function allClosedWithin(closings: Promise<{ ms: number }>[], atLeastMs: number, limitMs: number): Promise<number[]> {
  const times = (await Promise.all(closings)).map((c) => Math.round(c.ms));
  for (const ms of times) {
    expect(ms).toBeGreaterThanOrEqual(atLeastMs - 50);
    expect(ms).toBeLessThan(limitMs + SLACK_MS);
  }
  return times;
}

describe("HTTP/1.1 and the sniffing listener", () => {
  it("closes sockets that send nothing after the first-bytes timeout", async () => {
    const probes = Array.from({ length: MANY }, () => probe(server.port));
    await allClosedWithin(probes.map((p) => p.closed), FIRST_BYTES_MS, FIRST_BYTES_MS);
    for (const p of probes) expect(p.data()).toBe("");
  });

  it("answers 408 and closes slowloris request lines that trickle one byte at a time", async () => {
    const probes = Array.from({ length: MANY }, () => probe(server.port));
    for (const p of probes) {
      p.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ");
      trickle(p, "a", 200);
    }
    // Sending bytes keeps them past the first-bytes timeout; the headers timeout ends them.
    await allClosedWithin(probes.map((p) => p.closed), HEADERS_MS, HEADERS_MS);
    for (const p of probes) expect(p.data()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("answers 408 and closes requests whose body trickles in", async () => {
    const probes = Array.from({ length: MANY }, () => probe(server.port));
    for (const p of probes) {
      p.socket.write("POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{");
      trickle(p, " ", 200);
    }
    await allClosedWithin(probes.map((p) => p.closed), REQUEST_MS, REQUEST_MS);
    for (const p of probes) expect(p.data()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes keep-alive connections idle after a request", async () => {
    const probes = Array.from({ length: MANY }, () => probe(server.port));
    for (const p of probes) p.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    await Promise.all(probes.map((p) => p.received('{"status":"ok"}')));
    // Node adds one second to the advertised keep-alive time (keepAliveTimeoutBuffer) against races with clients.
    const closed = await Promise.all(probes.map((p) => p.closed));
    for (const c of closed) {
      expect(c.data).toMatch(/^HTTP\/1\.1 200 /);
      expect(c.ms).toBeLessThan(KEEP_ALIVE_MS + 1000 + SLACK_MS);
    }
  });
});

describe("h2c", () => {
  it("closes connections that send the preface (or part of it) and then nothing", async () => {
    const probes = Array.from({ length: MANY }, (_, i) => {
      const p = probe(server.port);
      p.socket.write(i % 2 === 0 ? "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" : "PRI * HTTP/2.0");
      return p;
    });
    // Routed at once, then the session waits for the client's SETTINGS for the first-bytes time.
    await allClosedWithin(probes.map((p) => p.closed), FIRST_BYTES_MS, FIRST_BYTES_MS);
  });

  it("closes idle sessions with GOAWAY, however often the client pings", async () => {
    const sessions = Array.from({ length: MANY }, () => h2Connect(server.url));
    const results = sessions.map(async (session) => {
      const started = performance.now();
      session.on("error", () => undefined);
      const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
      const closed = new Promise<number>((resolve) => session.once("close", () => resolve(performance.now() - started)));
      const req = session.request({ ":path": "/healthz" });
      req.resume();
      await new Promise((resolve) => req.once("close", resolve));
      // The server destroys the session a tick before 'close' is emitted: ping only a live one.
      const pinging = setInterval(() => session.destroyed || session.ping(() => undefined), 200);
      const [code, ms] = await Promise.all([goaway, closed]);
      clearInterval(pinging);
      return { code, ms };
    });
    for (const { code, ms } of await Promise.all(results)) {
      expect(code).toBe(h2.NGHTTP2_NO_ERROR);
      expect(ms).toBeGreaterThanOrEqual(H2_IDLE_MS - 50);
      expect(ms).toBeLessThan(H2_IDLE_MS + SLACK_MS);
    }
  });

  it("resets streams whose request body stalls, and keeps the session", async () => {
    const session = h2Connect(server.url);
    session.on("error", () => undefined);
    const started = performance.now();
    const streams = Array.from({ length: MANY }, () => {
      const req = session.request({ ":method": "POST", ":path": "/auth/signin", "content-type": "application/json" });
      req.on("error", () => undefined);
      req.write("{");
      return new Promise<{ code: number; ms: number }>((resolve) => req.once("close", () => resolve({ code: req.rstCode, ms: performance.now() - started })));
    });
    for (const { code, ms } of await Promise.all(streams)) {
      expect(code).toBe(h2.NGHTTP2_CANCEL);
      expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      expect(ms).toBeLessThan(REQUEST_MS + SLACK_MS);
    }
    expect(session.closed).toBe(false);
    session.close();
  });
});

describe("long-lived streams", () => {
  it("stayed open through all of the above, heartbeats flowing", () => {
    expect([sse.isOpen(), ws.isOpen(), ended]).toEqual([true, true, []]);
    const after = beats();
    // Each stream was quiet for HEARTBEAT_MS at a time — longer than every limit — and is still served.
    for (let i = 0; i < after.length; i++) expect(after[i]! - beatsBefore[i]!).toBeGreaterThanOrEqual(2);
  });

  it("logged no server fault", () => {
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
