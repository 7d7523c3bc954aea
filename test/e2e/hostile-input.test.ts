/**
 * Hostile input at the browser edge: malformed JSON, wrong types, unknown fields, wrong media
 * types, huge bodies, path traversal and NUL bytes in ids, Unicode edge cases, forged cookies,
 * CSRF attempts and a cross-origin upgrade — each answered with a 4xx JSON error, while the
 * server stays up, logs no internal error, and stores nothing.
 */
import { connect as tcpConnect } from "node:net";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";

let server: TestServer;
let token: string;
let roomId: string;
let username: string;
let password: string;
let cookie: string;

/** Sends raw bytes (no client-side URL normalisation) and returns the status and body. */
function raw(request: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(server.port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: rest.join("\r\n\r\n") });
    });
    // No half-close: the server answers, then closes (connection: close).
    socket.write(request);
  });
}

const get = (path: string, headers = "") => raw(`GET ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n${headers}\r\n`);

async function send(method: string, path: string, body: string | Blob | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

async function snapshot(): Promise<string> {
  const rooms = await send("GET", "/rooms?limit=1000", undefined);
  const messages = await send("GET", `/room/${roomId}/messages?limit=1000`, undefined);
  return JSON.stringify([rooms.body, messages.body]);
}

let before: string;
beforeAll(async () => {
  server = await startServer({ env: { MAX_BODY_BYTES: "65536" } });
  const user = await newUser(server.url);
  token = user.token;
  username = user.user.username;
  password = user.password;
  const { room } = await user.clients.rooms.createRoom({ name: uniqueName("target") });
  roomId = room!.roomId;
  await user.clients.messages.postMessage({ roomId, text: "the only message" });
  const signIn = await fetch(`${server.url}/auth/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
  cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
  before = await snapshot();
});
afterAll(async () => {
  await server?.stop();
});

describe("hostile bodies", () => {
  const cases: [string, string, string, string | undefined, Record<string, string>?][] = [
    ["malformed JSON", "POST", "/rooms", '{"name":'],
    ["a JSON array", "POST", "/rooms", '["name"]'],
    ["a wrong type", "POST", "/rooms", '{"name":42}'],
    ["a nested operator", "POST", "/room/{room}/messages", '{"text":{"$gt":""}}'],
    ["an unknown field", "POST", "/rooms", '{"name":"x","createdBy":"1"}'],
    ["a prototype-pollution key", "POST", "/rooms", '{"__proto__":{"admin":true},"name":"y"}'],
    ["text/plain", "POST", "/rooms", '{"name":"plain"}', { "content-type": "text/plain" }],
    ["a form", "POST", "/rooms", "name=form", { "content-type": "application/x-www-form-urlencoded" }],
    ["latin-1 charset", "POST", "/rooms", '{"name":"latin"}', { "content-type": "application/json; charset=iso-8859-1" }],
    ["invalid UTF-8", "POST", "/rooms", undefined],
    ["an unpaired surrogate", "POST", "/room/{room}/messages", '{"text":"\\ud800"}'],
    ["a control character in a name", "POST", "/rooms", '{"name":"a\\u0000b"}'],
    ["a right-to-left override", "POST", "/rooms", '{"name":"evil\\u202Egnp.exe"}'],
    ["a zero-width joiner", "POST", "/rooms", '{"name":"a\\u200Db"}'],
    ["white space only", "POST", "/room/{room}/messages", '{"text":" \\u3000\\t"}'],
    ["4001 emoji", "POST", "/room/{room}/messages", JSON.stringify({ text: "😀".repeat(4001) })],
    ["a username with a path", "POST", "/auth/signup", '{"username":"../../etc","password":"long enough pw"}'],
    ["a non-ASCII username", "POST", "/auth/signup", '{"username":"ålice","password":"long enough pw"}'],
  ];
  for (const [name, method, path, body, headers] of cases) {
    it(`refuses ${name} with a 4xx`, async () => {
      const payload = body === undefined ? new Blob([new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])]) : body;
      const res = await send(method, path.replace("{room}", roomId), payload, headers);
      expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body).toEqual({ code: expect.any(String), message: expect.any(String) });
    });
  }

  it("answers 415 for a wrong media type and 413 for a huge body", async () => {
    expect((await send("POST", "/rooms", '{"name":"t"}', { "content-type": "text/plain" })).status).toBe(415);
    const huge = JSON.stringify({ text: "x".repeat(10 * 1024 * 1024) });
    const res = await send("POST", `/room/${roomId}/messages`, huge);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ code: "resource_exhausted", message: expect.stringContaining("65536") });
  });

  it("answers 413 for a huge chunked body without Content-Length", async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const parts = [`POST /room/${roomId}/messages HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`];
    for (let i = 0; i < 64; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
    parts.push("0\r\n\r\n");
    expect((await raw(parts.join(""))).status).toBe(413);
  });

  it("treats Unicode names by NFC and case: a decomposed twin is a conflict", async () => {
    const base = uniqueName("Cafe");
    expect((await send("POST", "/rooms", JSON.stringify({ name: `${base}\u0301` }))).status).toBe(201);
    expect((await send("POST", "/rooms", JSON.stringify({ name: `${base.toUpperCase()}\u0301` }))).status).toBe(409);
    expect((await send("POST", "/rooms", JSON.stringify({ name: `${base.slice(0, -1)}${base.at(-1)}\u0301`.normalize("NFC") }))).status).toBe(409);
    before = await snapshot();
  });
});

describe("hostile paths and queries", () => {
  const paths: [string, number][] = [
    ["/room/..%2F..%2Fetc%2Fpasswd/messages", 400],
    ["/room/../../etc/passwd/messages", 404],
    ["/rooms/%2e%2e", 400],
    ["/rooms/%00", 400],
    ["/rooms/1%00", 400],
    ["/users/bob%00/messages", 405],
    ["/rooms/%E0%A4%A", 400],
    ["/rooms/%ED%A0%80", 400],
    ["/rooms/99999999999999999999999", 400],
    ["/room/12/subscribe?since=../../x", 400],
    ["/rooms?limit=abc", 400],
    ["/rooms?limit=1&limit=2", 400],
    ["/rooms?limit=99999", 400],
    ["/rooms?admin=true", 400],
    ["/assets/..%2F..%2Fpackage.json", 404],
    ["/%2e%2e/package.json", 404],
    ["/..%5c..%5cpackage.json", 404],
    ["/assets/%00.js", 404],
    ["//etc/passwd", 404],
  ];
  for (const [path, status] of paths) {
    it(`GET ${path} → ${status}`, async () => {
      const res = await get(path);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body)).toEqual({ code: expect.any(String), message: expect.any(String) });
      expect(res.body).not.toContain("root:");
    });
  }

  it("refuses a body on a GET", async () => {
    const res = await raw(`GET /rooms HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{"x":1}`);
    expect(res.status).toBe(400);
  });

  it("refuses a NUL byte in a DM recipient's name sent by POST", async () => {
    const res = await send("POST", "/users/bob%00/messages", '{"text":"hi"}');
    expect(res.status).toBe(400);
  });

  it("refuses an oversized header (431, or a reset before the answer is read) and stays up", async () => {
    const res = await get("/rooms", `x-junk: ${"a".repeat(64 * 1024)}\r\n`).catch((error: NodeJS.ErrnoException) => ({ status: error.code, body: "" }));
    expect([431, "ECONNRESET"]).toContain(res.status);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("forged credentials and cross-site requests", () => {
  it("refuses a forged or tampered cookie with 401", async () => {
    const forged = await fetch(`${server.url}/me`, { headers: { cookie: "parley_token=v4.public.forged" } });
    expect(forged.status).toBe(401);
    const value = cookie.split("=")[1]!;
    const tampered = `parley_token=${value.slice(0, -4)}${value.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    expect((await fetch(`${server.url}/me`, { headers: { cookie: tampered } })).status).toBe(401);
    expect((await fetch(`${server.url}/me`, { headers: { cookie: `parley_token=${"x".repeat(5000)}` } })).status).toBe(401);
    expect((await fetch(`${server.url}/me`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses cookie-authenticated writes from another origin, or with neither Origin nor X-Requested-With (CSRF)", async () => {
    const body = JSON.stringify({ name: uniqueName("csrf") });
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/rooms`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body });
    expect((await post({ origin: "https://evil.example" })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await fetch(`${server.url}/auth/signout`, { method: "POST", headers: { cookie, origin: "https://evil.example" } })).status).toBe(403);
  });

  it("refuses a cross-origin WebSocket upgrade with 403", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`, { headers: { cookie, origin: "https://evil.example" } });
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => reject(new Error("upgrade accepted")));
      ws.once("error", () => undefined);
    });
    expect(status).toBe(403);
  });

  it("ignores X-Forwarded-* from a peer that is not a trusted proxy", async () => {
    const res = await send("POST", "/rooms", JSON.stringify({ name: uniqueName("fwd") }), { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toMatch(new RegExp(`^${server.url}/rooms/\\d+$`));
    before = await snapshot();
  });
});

describe("after all of that", () => {
  it("is still up, stored nothing, and logged no internal error", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await snapshot()).toBe(before);
    const signIn = await fetch(`${server.url}/auth/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    expect(signIn.status).toBe(200);
    expect(server.output()).not.toMatch(/"level":50/);
  });
});
