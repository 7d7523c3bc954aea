/**
 * What the port gives away beyond the API itself: every API answer — Connect, gRPC-Web, gRPC,
 * the fast paths, REST — says nosniff and no-store; a page's origin is this server's own only
 * when it is listed in PUBLIC_ORIGINS or is an address no one else can name (localhost, an IP),
 * never because a forged Host header (DNS rebinding) agrees with it; and METRICS_PORT moves
 * /metrics off the public port.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect as h2connect, constants } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetMeRequestSchema } from "../../gen/chat/v1/auth_pb.js";
import { SubscribeRoomRequestSchema } from "../../gen/chat/v1/message_pb.js";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";
import { envelope } from "../support/raw-rpc.js";

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request with exactly these headers (Host included); the body is read unless `headOnly` (streams). */
function h1(url: string, method: string, path: string, headers: Record<string, string>, body?: Uint8Array | string, headOnly = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, headers, setHost: headers["host"] === undefined }, (res) => {
      if (headOnly) {
        res.destroy();
        return resolve({ status: res.statusCode!, headers: res.headers, body: "" });
      }
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** One HTTP/2 request; resolves with the response headers, then closes the session (streams never end). */
function h2(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<IncomingHttpHeaders> {
  const session = h2connect(url);
  return new Promise<IncomingHttpHeaders>((resolve, reject) => {
    session.on("error", reject);
    const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: "POST", [constants.HTTP2_HEADER_PATH]: path, ...headers });
    stream.on("response", resolve);
    stream.on("error", reject);
    stream.end(body);
  }).finally(() => session.destroy());
}

/** Opens a WebSocket with these headers; resolves with 101, or the status of the refusal. */
function upgradeStatus(url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${path}`, { headers });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    ws.once("error", reject);
  });
}

const apiHeaders = (headers: IncomingHttpHeaders | Record<string, unknown>) => ({
  nosniff: headers["x-content-type-options"],
  cache: headers["cache-control"],
});
const EXPECTED = { nosniff: "nosniff", cache: "no-store" };

describe("API answers", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("say nosniff and no-store on every protocol, fast path or not, success or error", async () => {
    const { token, clients } = await newUser(server.url);
    const { room } = await clients.rooms.createRoom({ name: uniqueName("headers") });
    const bearer = { authorization: `Bearer ${token}` };
    const getMe = envelope(toBinary(GetMeRequestSchema, create(GetMeRequestSchema, {})));
    const subscribe = envelope(toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId: room!.roomId })));
    const subscribeJson = envelope(new TextEncoder().encode(JSON.stringify({ roomId: room!.roomId })));
    const json = { "content-type": "application/json" };
    const answers: Record<string, IncomingHttpHeaders> = {
      "connect unary": (await h1(server.url, "POST", "/chat.v1.AuthService/GetMe", { ...json, ...bearer }, "{}")).headers,
      "connect unary, unauthenticated": (await h1(server.url, "POST", "/chat.v1.AuthService/GetMe", json, "{}")).headers,
      "connect unary, bad JSON": (await h1(server.url, "POST", "/chat.v1.AuthService/GetMe", json, "{")).headers,
      "connect GET": (await h1(server.url, "GET", "/chat.v1.AuthService/GetMe?encoding=json&message=%7B%7D", bearer)).headers,
      "grpc-web unary": (await h1(server.url, "POST", "/chat.v1.AuthService/GetMe", { "content-type": "application/grpc-web+proto", ...bearer }, getMe)).headers,
      "connect stream (fast path)": (await h1(server.url, "POST", "/chat.v1.MessageService/SubscribeRoom", { "content-type": "application/connect+json", ...bearer }, subscribeJson, true)).headers,
      "connect stream (connect-node)": (await h1(server.url, "POST", "/chat.v1.MessageService/SubscribeRoom", { "content-type": "application/connect+json", "connect-timeout-ms": "60000", ...bearer }, subscribeJson, true)).headers,
      "connect stream, refused": (await h1(server.url, "POST", "/chat.v1.MessageService/SubscribeRoom", { "content-type": "application/connect+json" }, subscribeJson)).headers,
      "grpc-web stream (fast path)": (await h1(server.url, "POST", "/chat.v1.MessageService/SubscribeRoom", { "content-type": "application/grpc-web+proto", ...bearer }, subscribe, true)).headers,
      "grpc unary (fast path)": await h2(server.url, "/chat.v1.AuthService/GetMe", { "content-type": "application/grpc", te: "trailers", ...bearer }, getMe),
      "grpc unary (connect-node)": await h2(server.url, "/chat.v1.AuthService/GetMe", { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip", "grpc-accept-encoding": "identity", ...bearer }, getMe),
      "grpc stream (fast path)": await h2(server.url, "/chat.v1.MessageService/SubscribeRoom", { "content-type": "application/grpc", te: "trailers", ...bearer }, subscribe),
      "connect over HTTP/2": await h2(server.url, "/chat.v1.AuthService/GetMe", { ...json, ...bearer }, new TextEncoder().encode("{}")),
      "rest": (await h1(server.url, "GET", "/rooms", bearer)).headers,
      "rest, not found": (await h1(server.url, "GET", "/nowhere/at/all", bearer)).headers,
      "cors preflight": (await h1(server.url, "OPTIONS", "/chat.v1.AuthService/GetMe", { origin: "https://elsewhere.example", "access-control-request-method": "POST" })).headers,
      "metrics": (await h1(server.url, "GET", "/metrics", {})).headers,
      "healthz": (await h1(server.url, "GET", "/healthz", {})).headers,
    };
    for (const [what, headers] of Object.entries(answers)) expect(apiHeaders(headers), what).toEqual(EXPECTED);
    // The page keeps its own caching: revalidated HTML, immutable hashed assets.
    expect(apiHeaders((await h1(server.url, "GET", "/", {})).headers)).toEqual({ nosniff: "nosniff", cache: "no-cache" });
  });
});

/** A signed-in user's session cookie ("parley_token=…") and a bearer header. */
async function signedIn(url: string) {
  const user = await newUser(url);
  const res = await h1(url, "POST", "/auth/signin", { "content-type": "application/json" }, JSON.stringify({ username: user.user.username, password: user.password }));
  const cookie = String(res.headers["set-cookie"]).split(";")[0]!;
  return { cookie, bearer: `Bearer ${user.token}` };
}

/** A cookie-authenticated write (CSRF-guarded) as a page at `origin` would send it, addressed to `host`. */
async function cookieWrite(url: string, cookie: string, host: string, origin: string): Promise<number> {
  const body = JSON.stringify({ name: uniqueName("origin") });
  return (await h1(url, "POST", "/rooms", { host, origin, cookie, "content-type": "application/json" }, body)).status;
}

describe("origins, with no PUBLIC_ORIGINS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuse a cross-site page whose forged Host matches its Origin (DNS rebinding)", async () => {
    const { cookie, bearer } = await signedIn(server.url);
    const evil = `evil.example:${server.port}`;
    expect(await cookieWrite(server.url, cookie, evil, `http://${evil}`)).toBe(403);
    expect(await upgradeStatus(server.url, "/ws", { host: evil, origin: `http://${evil}`, cookie })).toBe(403);
    expect(await upgradeStatus(server.url, "/ws", { host: evil, origin: `http://${evil}`, authorization: bearer })).toBe(403);
    const preflight = await h1(server.url, "OPTIONS", "/rooms", { host: evil, origin: `http://${evil}`, "access-control-request-method": "POST" });
    expect(preflight.status).toBe(403);
    const simple = await h1(server.url, "GET", "/rooms", { host: evil, origin: `http://${evil}`, cookie });
    expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
    // Through a trusted proxy's X-Forwarded-Host it is the same story (see the PUBLIC_ORIGINS suite for the allowed case).
  });

  it("accept the server's own page at localhost or an IP address", async () => {
    const { cookie } = await signedIn(server.url);
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`]) {
      expect(await cookieWrite(server.url, cookie, host, `http://${host}`), host).toBe(201);
      expect(await upgradeStatus(server.url, "/ws", { host, origin: `http://${host}`, cookie }), host).toBe(101);
    }
    // Another port of the same machine is another site.
    expect(await cookieWrite(server.url, cookie, `localhost:${server.port}`, "http://localhost:3000")).toBe(403);
  });
});

describe("origins, with PUBLIC_ORIGINS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { PUBLIC_ORIGINS: "https://chat.example.com", TRUSTED_PROXIES: "127.0.0.1" } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("accept the listed origin however the request was addressed, and no other named one", async () => {
    const { cookie } = await signedIn(server.url);
    // A proxy that passes the internal address as Host, or the public name in X-Forwarded-Host.
    expect(await cookieWrite(server.url, cookie, `127.0.0.1:${server.port}`, "https://chat.example.com")).toBe(201);
    expect(await upgradeStatus(server.url, "/ws", { host: `127.0.0.1:${server.port}`, origin: "https://chat.example.com", cookie })).toBe(101);
    const forwarded = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };
    const status = (await h1(server.url, "POST", "/rooms", { ...forwarded, origin: "https://evil.example", cookie, "content-type": "application/json" }, JSON.stringify({ name: uniqueName("fwd") }))).status;
    expect(status).toBe(403);
    expect(await cookieWrite(server.url, cookie, "evil.example", "http://evil.example")).toBe(403);
    expect(await upgradeStatus(server.url, "/ws", { ...forwarded, origin: "https://evil.example", cookie })).toBe(403);
  });
});

describe("METRICS_PORT", () => {
  it("serves /metrics on its own listener and no longer on the public port", async () => {
    const server = await startServer({
      env: { METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" },
    });
    try {
      const line = server.output().split("\n").find((l) => l.includes('"msg":"metrics listening"'));
      const metricsPort = (JSON.parse(line!) as { metricsPort: number }).metricsPort;
      expect(metricsPort).not.toBe(server.port);
      const own = await h1(`http://127.0.0.1:${metricsPort}`, "GET", "/metrics", {});
      expect(own.status).toBe(200);
      expect(own.headers["content-type"]).toMatch(/^text\/plain/);
      expect(own.body).toMatch(/^# TYPE parley_rpcs_total counter$/m);
      expect((await h1(`http://127.0.0.1:${metricsPort}`, "GET", "/rooms", {})).status).toBe(404);
      const publicPort = await h1(server.url, "GET", "/metrics", {});
      expect(publicPort.status).toBe(404);
      expect(publicPort.body).not.toMatch(/parley_/);
      // The public port still serves everything else.
      expect((await h1(server.url, "GET", "/healthz", {})).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
