/**
 * The caps of issue #11, item 3, against a real server: a per-address cap on open connections
 * (counted by TCP peer at the listener; other addresses and trusted proxies unaffected; a place
 * frees when a connection closes) and a per-user cap on open streams, the same on every stream
 * edge — 429 on SSE and on a subscribe path's WebSocket upgrade, RESOURCE_EXHAUSTED on gRPC,
 * gRPC-Web and Connect (fast path and connect-node), an error frame on /ws — while another user
 * is unaffected.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, uniqueName } from "../support/clients.js";
import { type LiveStream, logLines, openSse, openWs, type Probe, probe } from "../support/connection-probes.js";
import { startServer, type TestServer } from "../support/server.js";
import { type StreamProtocol, type Subscriber, subscribe } from "../support/stream-subscribers.js";

const HEALTH = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
const OK = '{"status":"ok"}';

/** A connection the server admitted: it answers a request on it (and keeps it open). */
async function admitted(port: number, localAddress: string): Promise<Probe> {
  const p = probe(port, localAddress);
  p.socket.write(HEALTH);
  await p.received(OK);
  return p;
}

describe("per-address connection cap", () => {
  const CAP = 3;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: { MAX_CONNECTIONS_PER_ADDRESS: String(CAP), TRUSTED_PROXIES: "127.0.0.2" },
      oneProcess: "the cap is per process by design (DESIGN.md, Connection timeouts and caps): N workers admit about N × CAP",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses connection N+1 from one address at once, and accepts again after one closes", async () => {
    const held = await Promise.all(Array.from({ length: CAP }, () => admitted(server.port, "127.0.0.1")));
    const refused = probe(server.port, "127.0.0.1");
    refused.socket.write(HEALTH);
    expect((await refused.closed).data).toBe("");

    // The one that closes gives its place back.
    held[0]!.socket.end();
    await held[0]!.closed;
    const again = await admitted(server.port, "127.0.0.1");
    expect(again.data()).toMatch(/^HTTP\/1\.1 200 /);
    const refusedAgain = probe(server.port, "127.0.0.1");
    expect((await refusedAgain.closed).data).toBe("");

    // Other addresses are not affected, and a trusted proxy (many clients behind it) is not capped.
    const other = await admitted(server.port, "127.0.0.3");
    const proxy = await Promise.all(Array.from({ length: CAP * 2 }, () => admitted(server.port, "127.0.0.2")));

    const metrics = probe(server.port, "127.0.0.3");
    metrics.socket.write("GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    expect((await metrics.closed).data).toMatch(/parley_connections_closed_total\{reason="address_cap"\} 2/);
    for (const p of [...held.slice(1), again, other, ...proxy]) p.socket.destroy();
  });
});

describe("per-user stream cap", () => {
  const CAP = 3;
  let server: TestServer;
  let a: Awaited<ReturnType<typeof newUser>>;
  let b: Awaited<ReturnType<typeof newUser>>;
  let roomId: string;
  let path: string;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    server = await startServer({ env: { MAX_STREAMS_PER_USER: String(CAP) }, oneProcess: "the cap is per process by design (DESIGN.md, Connection timeouts and caps)" });
    a = await newUser(server.url);
    b = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("capped") });
    roomId = room!.roomId;
    path = `/room/${roomId}/subscribe`;
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await server?.stop();
  });

  /** A subscribe stream that has delivered Ready; closes with the suite. */
  async function rpcStream(protocol: StreamProtocol, token: string): Promise<Subscriber> {
    const s = subscribe(protocol, server.url, token, { roomId });
    open.push({ close: () => s.cancel() });
    await s.until((frames) => frames.some((f) => f.case === "ready"));
    return s;
  }
  async function sseStream(token: string): Promise<LiveStream> {
    const s = await openSse(server.url, path, token);
    open.push(s);
    return s;
  }
  const message = expect.stringContaining(`at most ${CAP} per user`);

  it("refuses a user's stream beyond the cap on every edge, and leaves another user alone", async () => {
    // A's three streams, over three edges; the /ws socket itself is no stream (its subscriptions are).
    const sse = await sseStream(a.token);
    const ws = await openWs(server.url, path, a.token);
    open.push(ws);
    await ws.next((f) => f["type"] === "ready");
    await rpcStream("grpc-js", a.token);

    const refusedSse = await openSse(server.url, path, a.token).then(
      () => undefined,
      (error: { status?: number; body?: string }) => error,
    );
    expect(refusedSse?.status).toBe(429);
    expect(JSON.parse(refusedSse?.body ?? "null")).toEqual({ code: "resource_exhausted", message });

    const refusedUpgrade = await openWs(server.url, path, a.token).then(
      () => undefined,
      (error: { status?: number; body?: string }) => error,
    );
    expect(refusedUpgrade?.status).toBe(429);
    expect(JSON.parse(refusedUpgrade?.body ?? "null")).toEqual({ code: "resource_exhausted", message });

    const mux = await openWs(server.url, "/ws", a.token);
    open.push(mux);
    mux.ws.send(JSON.stringify({ type: "subscribe", room_id: roomId, ref: "over" }));
    expect(await mux.next((f) => f["ref"] === "over")).toEqual({ type: "error", code: "resource_exhausted", message, ref: "over", room_id: roomId });

    // gRPC (grpc-js and connect's gRPC transport), gRPC-Web and Connect go through the fast path,
    // which hands a refusal to connect-node to answer; a deadline skips the fast path altogether.
    for (const protocol of ["grpc-js", "grpc", "grpc-web", "connect-proto", "connect-json"] as const) {
      const end = await subscribe(protocol, server.url, a.token, { roomId }).ended;
      expect({ protocol, ...end }).toEqual({ protocol, code: Code.ResourceExhausted, message });
    }
    const viaConnectNode = a.clients.messages.subscribeRoom({ roomId, since: "" }, { timeoutMs: 60_000 });
    await expect(viaConnectNode[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.ResourceExhausted, rawMessage: message });

    // B is not affected by A's streams.
    await sseStream(b.token);
    await rpcStream("connect-json", b.token);

    // A closes one stream: its place is free again once the server has ended it.
    sse.close();
    await logLines(server, ['"msg":"stream ended"', `"user":"${a.user.userId}"`, '"transport":"sse"'], 1);
    await rpcStream("grpc-web", a.token);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
