/**
 * Browser concerns of the REST edge over real HTTP: the session cookie (attributes, use, CSRF
 * rule, sign-out), stream tickets, X-Forwarded-* from a trusted proxy (absolute Location, Secure
 * cookie), CORS for REST and Connect-Web, and pagination headers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";

const APP = "https://app.example.com";

let server: TestServer;
beforeAll(async () => {
  // The proxied tests' page is at https://chat.example.com: a name, so it is listed (a Host or
  // X-Forwarded-Host naming a domain is never proof of the server's own origin; exposure.test.ts).
  server = await startServer({ env: { CORS_ORIGINS: APP, TRUSTED_PROXIES: "127.0.0.1", PUBLIC_ORIGINS: "https://chat.example.com" } });
});
afterAll(async () => {
  await server?.stop();
});

async function signIn(url: string, username: string, password: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/auth/signin`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  return { setCookie: res.headers.get("set-cookie")!, cookie: res.headers.get("set-cookie")!.split(";")[0]! };
}

describe("the session cookie", () => {
  it("is HttpOnly and SameSite=Strict, authenticates reads, and writes from the same origin", async () => {
    const a = await newUser(server.url);
    const { setCookie, cookie } = await signIn(server.url, a.user.username, a.password);
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain("Secure");
    const me = await fetch(`${server.url}/me`, { headers: { cookie } });
    expect(await me.json()).toEqual(expect.objectContaining({ userId: a.user.userId }));
    const create = (headers: Record<string, string>) =>
      fetch(`${server.url}/rooms`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body: JSON.stringify({ name: uniqueName("cookie") }) });
    expect((await create({ origin: server.url })).status).toBe(201);
    expect((await create({ origin: APP })).status).toBe(201);
    expect((await create({ "x-requested-with": "fetch" })).status).toBe(201);
    expect((await create({ origin: "https://evil.example" })).status).toBe(403);
  });

  it("is cleared by sign-out, which revokes it", async () => {
    const a = await newUser(server.url);
    const { cookie } = await signIn(server.url, a.user.username, a.password);
    const out = await fetch(`${server.url}/auth/signout`, { method: "POST", headers: { cookie, origin: server.url } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toBe("parley_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
    expect((await fetch(`${server.url}/me`, { headers: { cookie } })).status).toBe(401);
    const again = await fetch(`${server.url}/auth/signout`, { method: "POST", headers: { cookie, origin: server.url } });
    expect(again.status).toBe(401);
    expect(again.headers.get("set-cookie")).toMatch(/^parley_token=; Max-Age=0/);
  });

  it("is Secure, and Location absolute with the proxy's scheme and host, behind a trusted proxy", async () => {
    const a = await newUser(server.url);
    const proxied = { "x-forwarded-proto": "https", "x-forwarded-host": "chat.example.com", "x-forwarded-for": "203.0.113.7" };
    const { setCookie, cookie } = await signIn(server.url, a.user.username, a.password, proxied);
    expect(setCookie).toMatch(/; Secure$/);
    const res = await fetch(`${server.url}/rooms`, {
      method: "POST",
      headers: { ...proxied, cookie, origin: "https://chat.example.com", "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName("proxied") }),
    });
    expect(res.status).toBe(201);
    const room = (await res.json()) as { roomId: string };
    expect(res.headers.get("location")).toBe(`https://chat.example.com/rooms/${room.roomId}`);
  });
});

describe("stream tickets", () => {
  it("are issued for a bearer token or the cookie, and only by POST", async () => {
    const a = await newUser(server.url);
    const res = await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${a.token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ticket: string; expiresAt: string };
    expect(body.ticket).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(body.ticket).not.toContain(a.token.slice(10, 40));
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(20_000);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    const { cookie } = await signIn(server.url, a.user.username, a.password);
    expect((await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { cookie, origin: server.url } })).status).toBe(200);
    expect((await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { cookie, origin: "https://evil.example" } })).status).toBe(403);
    expect((await fetch(`${server.url}/auth/ticket`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${server.url}/auth/ticket`, { headers: { authorization: `Bearer ${a.token}` } })).status).toBe(405);
    const withBody = await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" }, body: '{"x":1}' });
    expect(withBody.status).toBe(400);
  });

  it("open streams only: not accepted by other routes, and a forged one is refused", async () => {
    const a = await newUser(server.url);
    const { ticket } = (await (await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${a.token}` } })).json()) as { ticket: string };
    expect((await fetch(`${server.url}/me?ticket=${ticket}`)).status).toBe(400);
    const forged = await fetch(`${server.url}/me/subscribe?ticket=${ticket.slice(0, -2)}AA`, { headers: { accept: "text/event-stream" } });
    expect(forged.status).toBe(401);
    const real = await fetch(`${server.url}/me/subscribe?ticket=${ticket}`, { headers: { accept: "text/event-stream" } });
    expect(real.status).toBe(200);
    await real.body?.cancel();
  });
});

describe("CORS", () => {
  it("answers a REST preflight from an allowed origin, with credentials", async () => {
    const res = await fetch(`${server.url}/rooms`, {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("refuses a preflight from any other origin", async () => {
    const res = await fetch(`${server.url}/rooms`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("exposes Location, Retry-After and X-Next-Page-Token to an allowed origin", async () => {
    const a = await newUser(server.url);
    const res = await fetch(`${server.url}/me`, { headers: { origin: APP, authorization: `Bearer ${a.token}` } });
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    for (const h of ["Location", "Retry-After", "X-Next-Page-Token"]) expect(res.headers.get("access-control-expose-headers")).toContain(h);
    const evil = await fetch(`${server.url}/me`, { headers: { origin: "https://evil.example", authorization: `Bearer ${a.token}` } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("covers the Connect-Web routes too", async () => {
    const path = "/chat.v1.RoomService/ListRooms";
    const pre = await fetch(`${server.url}${path}`, {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version,authorization" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/Connect-Protocol-Version/i);
    const a = await newUser(server.url);
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json", "connect-protocol-version": "1", authorization: `Bearer ${a.token}` },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("allows any origin without credentials when CORS_ORIGINS=*", async () => {
    const open = await startServer({ env: { CORS_ORIGINS: "*" } });
    try {
      const res = await fetch(`${open.url}/rooms`, { method: "OPTIONS", headers: { origin: "https://anyone.example", "access-control-request-method": "GET" } });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    } finally {
      await open.stop();
    }
  });
});

describe("pagination headers", () => {
  it("sends X-Next-Page-Token beside a bare array, and ?pageToken= follows it", async () => {
    const own = await startServer();
    try {
      const a = await newUser(own.url);
      for (let i = 0; i < 3; i++) await a.clients.rooms.createRoom({ name: `page ${i}` });
      const auth = { authorization: `Bearer ${a.token}` };
      const first = await fetch(`${own.url}/rooms?limit=2`, { headers: auth });
      const token = first.headers.get("x-next-page-token");
      expect(((await first.json()) as unknown[]).length).toBe(2);
      expect(token).toBeTruthy();
      const second = await fetch(`${own.url}/rooms?limit=2&pageToken=${encodeURIComponent(token!)}`, { headers: auth });
      expect(((await second.json()) as { name: string }[]).map((r) => r.name)).toEqual(["page 2"]);
      expect(second.headers.get("x-next-page-token")).toBeNull();
    } finally {
      await own.stop();
    }
  });
});
