/**
 * The seed's REST table, row by row: every route × every status code the seed (and the issue's
 * product routes) lists, over real HTTP with fetch against the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { uniqueName } from "../support/clients.js";

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

interface Ctx {
  readonly url: string;
  readonly token: string;
  /** A second user: the recipient of direct messages. */
  readonly other: { readonly token: string; readonly userId: string; readonly username: string };
  readonly roomId: string;
  readonly roomName: string;
  /** A token used only by the sign-out row. */
  readonly spareToken: string;
}

const PASSWORD = "correct horse battery";
const MISSING_ROOM = "999999999999";

async function call(url: string, method: string, path: string, options: { token?: string; body?: unknown; accept?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers["authorization"] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.accept) headers["accept"] = options.accept;
  const res = await fetch(`${url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

async function signUpAndIn(url: string, username = uniqueName("rest")): Promise<{ token: string; userId: string; username: string }> {
  const up = await call(url, "POST", "/auth/signup", { body: { username, password: PASSWORD } });
  expect(up.status).toBe(201);
  const inn = await call(url, "POST", "/auth/signin", { body: { username, password: PASSWORD } });
  expect(inn.status).toBe(200);
  const body = inn.body as { accessToken: string; user: { userId: string } };
  return { token: body.accessToken, userId: body.user.userId, username };
}

interface Row {
  readonly route: string;
  readonly status: number;
  readonly request: (ctx: Ctx) => { method: string; path: string; token?: string; body?: unknown; accept?: string };
  readonly check?: (reply: Reply, ctx: Ctx) => void | Promise<void>;
}

const isError = (code: string) => (reply: Reply) => {
  expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
  expect(reply.body).toEqual({ code, message: expect.any(String) });
};

const ROWS: Row[] = [
  // rooms
  {
    route: "GET /rooms",
    status: 200,
    request: (c) => ({ method: "GET", path: "/rooms", token: c.token }),
    check: (r, c) => {
      expect(Array.isArray(r.body)).toBe(true);
      expect(r.body).toContainEqual(expect.objectContaining({ roomId: c.roomId, name: c.roomName }));
    },
  },
  { route: "GET /rooms", status: 401, request: () => ({ method: "GET", path: "/rooms" }), check: isError("unauthenticated") },
  {
    route: "POST /rooms",
    status: 201,
    request: (c) => ({ method: "POST", path: "/rooms", token: c.token, body: { name: uniqueName("created") } }),
    check: async (r, c) => {
      const room = r.body as { roomId: string; name: string };
      expect(r.headers.get("location")).toBe(`${c.url}/rooms/${room.roomId}`);
      const again = await call(c.url, "GET", new URL(r.headers.get("location")!).pathname, { token: c.token });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(room);
    },
  },
  { route: "POST /rooms", status: 400, request: (c) => ({ method: "POST", path: "/rooms", token: c.token, body: { name: "" } }), check: isError("invalid_argument") },
  { route: "POST /rooms", status: 401, request: () => ({ method: "POST", path: "/rooms", body: { name: uniqueName("x") } }), check: isError("unauthenticated") },
  {
    route: "POST /rooms",
    status: 409,
    request: (c) => ({ method: "POST", path: "/rooms", token: c.token, body: { name: c.roomName.toUpperCase() } }),
    check: isError("already_exists"),
  },
  { route: "GET /rooms/{roomId}", status: 200, request: (c) => ({ method: "GET", path: `/rooms/${c.roomId}`, token: c.token }) },
  { route: "GET /rooms/{roomId}", status: 404, request: (c) => ({ method: "GET", path: `/rooms/${MISSING_ROOM}`, token: c.token }), check: isError("not_found") },
  // room messages
  {
    route: "GET /room/{roomId}/subscribe",
    status: 202,
    request: (c) => ({ method: "GET", path: `/room/${c.roomId}/subscribe`, token: c.token }),
    check: (r) => expect(r.body).toEqual(expect.objectContaining({ position: expect.stringMatching(/^[0-9]+$/), transports: expect.any(Object) })),
  },
  { route: "GET /room/{roomId}/subscribe", status: 401, request: (c) => ({ method: "GET", path: `/room/${c.roomId}/subscribe` }), check: isError("unauthenticated") },
  {
    route: "GET /room/{roomId}/subscribe",
    status: 404,
    request: (c) => ({ method: "GET", path: `/room/${MISSING_ROOM}/subscribe`, token: c.token, accept: "text/event-stream" }),
    check: isError("not_found"),
  },
  {
    route: "GET /room/{roomId}/messages",
    status: 200,
    request: (c) => ({ method: "GET", path: `/room/${c.roomId}/messages?limit=10`, token: c.token }),
    check: (r) => {
      const texts = (r.body as { text: string }[]).map((m) => m.text);
      expect(texts).toEqual(["second", "first"]);
    },
  },
  { route: "GET /room/{roomId}/messages", status: 401, request: (c) => ({ method: "GET", path: `/room/${c.roomId}/messages` }), check: isError("unauthenticated") },
  { route: "GET /room/{roomId}/messages", status: 404, request: (c) => ({ method: "GET", path: `/room/${MISSING_ROOM}/messages`, token: c.token }), check: isError("not_found") },
  {
    route: "POST /room/{roomId}/messages",
    status: 201,
    request: (c) => ({ method: "POST", path: `/room/${c.roomId}/messages`, token: c.token, body: { text: "posted by the table" } }),
    check: (r, c) => expect(r.body).toEqual(expect.objectContaining({ roomId: c.roomId, text: "posted by the table", messageId: expect.any(String) })),
  },
  { route: "POST /room/{roomId}/messages", status: 400, request: (c) => ({ method: "POST", path: `/room/${c.roomId}/messages`, token: c.token, body: { text: "   " } }) },
  { route: "POST /room/{roomId}/messages", status: 401, request: (c) => ({ method: "POST", path: `/room/${c.roomId}/messages`, body: { text: "hi" } }) },
  {
    route: "POST /room/{roomId}/messages",
    status: 404,
    request: (c) => ({ method: "POST", path: `/room/${MISSING_ROOM}/messages`, token: c.token, body: { text: "hi" } }),
    check: isError("not_found"),
  },
  // accounts
  {
    route: "POST /auth/signup",
    status: 201,
    request: () => ({ method: "POST", path: "/auth/signup", body: { username: uniqueName("new"), password: PASSWORD } }),
    check: (r) => expect(r.body).toEqual(expect.objectContaining({ userId: expect.any(String), username: expect.any(String) })),
  },
  { route: "POST /auth/signup", status: 400, request: () => ({ method: "POST", path: "/auth/signup", body: { username: "x", password: "short" } }) },
  { route: "POST /auth/signup", status: 409, request: (c) => ({ method: "POST", path: "/auth/signup", body: { username: c.other.username, password: PASSWORD } }) },
  {
    route: "POST /auth/signin",
    status: 200,
    request: (c) => ({ method: "POST", path: "/auth/signin", body: { username: c.other.username, password: PASSWORD } }),
    check: (r, c) => {
      expect(r.body).toEqual({ accessToken: expect.stringMatching(/^v4\.public\./), expiresAt: expect.any(String), user: expect.objectContaining({ userId: c.other.userId }) });
      expect(r.headers.get("set-cookie")).toMatch(/^parley_token=v4\.public\.[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    },
  },
  { route: "POST /auth/signin", status: 401, request: (c) => ({ method: "POST", path: "/auth/signin", body: { username: c.other.username, password: "wrong password" } }) },
  {
    route: "POST /auth/signout",
    status: 204,
    request: (c) => ({ method: "POST", path: "/auth/signout", token: c.spareToken }),
    check: async (r, c) => {
      expect(r.body).toBeUndefined();
      expect(r.headers.get("set-cookie")).toMatch(/^parley_token=; Max-Age=0/);
      expect((await call(c.url, "GET", "/me", { token: c.spareToken })).status).toBe(401);
    },
  },
  { route: "POST /auth/signout", status: 401, request: () => ({ method: "POST", path: "/auth/signout" }) },
  { route: "GET /me", status: 200, request: (c) => ({ method: "GET", path: "/me", token: c.other.token }), check: (r, c) => expect(r.body).toEqual(expect.objectContaining({ userId: c.other.userId })) },
  { route: "GET /me", status: 401, request: () => ({ method: "GET", path: "/me", token: "v4.public.forged" }) },
  // direct messages
  {
    route: "POST /users/{username}/messages",
    status: 201,
    request: (c) => ({ method: "POST", path: `/users/${c.other.username}/messages`, token: c.token, body: { text: "psst" } }),
    check: (r, c) => expect(r.body).toEqual(expect.objectContaining({ recipientUserId: c.other.userId, text: "psst" })),
  },
  { route: "POST /users/{username}/messages", status: 401, request: (c) => ({ method: "POST", path: `/users/${c.other.username}/messages`, body: { text: "psst" } }) },
  {
    route: "POST /users/{username}/messages",
    status: 404,
    request: (c) => ({ method: "POST", path: `/users/${uniqueName("nobody")}/messages`, token: c.token, body: { text: "psst" } }),
    check: isError("not_found"),
  },
  {
    route: "GET /me/messages",
    status: 200,
    request: (c) => ({ method: "GET", path: "/me/messages", token: c.other.token }),
    check: (r) => expect((r.body as { text: string }[]).map((m) => m.text)).toContain("psst"),
  },
  { route: "GET /me/messages", status: 401, request: () => ({ method: "GET", path: "/me/messages" }) },
  { route: "GET /me/subscribe", status: 202, request: (c) => ({ method: "GET", path: "/me/subscribe", token: c.token }) },
  { route: "GET /me/subscribe", status: 401, request: () => ({ method: "GET", path: "/me/subscribe", accept: "text/event-stream" }) },
];

let server: TestServer;
let ctx: Ctx;

beforeAll(async () => {
  server = await startServer();
  const me = await signUpAndIn(server.url);
  const other = await signUpAndIn(server.url);
  const spare = await call(server.url, "POST", "/auth/signin", { body: { username: me.username, password: PASSWORD } });
  const roomName = uniqueName("Général");
  const room = await call(server.url, "POST", "/rooms", { token: me.token, body: { name: roomName } });
  const roomId = (room.body as { roomId: string }).roomId;
  for (const text of ["first", "second"]) await call(server.url, "POST", `/room/${roomId}/messages`, { token: me.token, body: { text } });
  ctx = { url: server.url, token: me.token, other, roomId, roomName, spareToken: (spare.body as { accessToken: string }).accessToken };
});
afterAll(async () => {
  await server?.stop();
});

describe("the seed's REST table", () => {
  for (const row of ROWS) {
    it(`${row.route} → ${row.status}`, async () => {
      const request = row.request(ctx);
      const reply = await call(ctx.url, request.method, request.path, request);
      expect(reply.status, JSON.stringify(reply.body)).toBe(row.status);
      if (row.status >= 400) expect(reply.body).toEqual({ code: expect.any(String), message: expect.any(String) });
      await row.check?.(reply, ctx);
    });
  }

  it("covers every route of the seed and of the issue", () => {
    const routes = new Set(ROWS.map((r) => r.route));
    expect([...routes].sort()).toEqual(
      [
        "GET /rooms", "POST /rooms", "GET /rooms/{roomId}", "GET /room/{roomId}/subscribe", "GET /room/{roomId}/messages",
        "POST /room/{roomId}/messages", "POST /auth/signup", "POST /auth/signin", "POST /auth/signout", "GET /me",
        "POST /users/{username}/messages", "GET /me/messages", "GET /me/subscribe",
      ].sort(),
    );
  });

  it("answers [] when there are no rooms, and a 405 with Allow for a wrong verb", async () => {
    const fresh = await startServer();
    try {
      const user = await signUpAndIn(fresh.url);
      const rooms = await call(fresh.url, "GET", "/rooms", { token: user.token });
      expect(rooms).toEqual(expect.objectContaining({ status: 200, body: [] }));
      const wrong = await call(fresh.url, "DELETE", "/rooms", { token: user.token });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, POST");
    } finally {
      await fresh.stop();
    }
  });
});
