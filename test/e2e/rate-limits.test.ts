/**
 * Rate limits that fit real networks, against a real server: 200 users behind one address (an
 * office, carrier-grade NAT) open their streams at once under the default limits; the per-user
 * limit, the per-address limit for anonymous calls and the per-address flood ceiling each
 * hold on their own (each test fails if its limit is removed). Clients are told apart by their
 * loopback source address (127.0.0.x), as on a real network.
 */
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PasetoTokens } from "../../src/auth/tokens.js";
import { hashPassword } from "../../src/auth/passwords.js";
import { SnowflakeGenerator } from "../../src/domain/ids.js";
import { uniquenessKey } from "../../src/domain/names.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { startServer, tempDir, type TestServer } from "../support/server.js";
import { agentFrom, send } from "../support/loopback.js";
import { newUser } from "../support/clients.js";
import { subscribe } from "../support/stream-subscribers.js";

/** Users written through the store before the server starts, with tokens from its key: no 200 scrypt runs. */
async function seedUsers(dataDir: string, count: number): Promise<{ id: string; token: string }[]> {
  const store = new SqliteStore({ file: join(dataDir, "parley.sqlite"), synchronous: "NORMAL" });
  const tokens = await PasetoTokens.create({ keyFile: join(dataDir, "token-signing-key.pem"), lifetimeSeconds: 12 * 3600 });
  const ids = new SnowflakeGenerator(1000);
  const passwordHash = await hashPassword("office password");
  const users: { id: string; token: string }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = ids.next();
      const username = `office${i}`;
      await store.createUser({ id, username, usernameKey: uniquenessKey(username), passwordHash, createdAtMs: Date.now() });
      users.push({ id, token: (await tokens.issue({ id, username })).token });
    }
  } finally {
    await store.close();
  }
  return users;
}

/** Opens an SSE stream of the caller's direct messages; resolves with the status, after the ready event for a 200. */
function openSse(url: string, token: string): Promise<number> {
  const target = new URL("/me/subscribe", url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve(res.statusCode ?? 0);
        }
        let seen = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          seen += chunk;
          if (seen.includes("event: ready")) {
            resolve(200);
            req.destroy();
          }
        });
        res.on("error", () => undefined);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("200 users behind one address, default limits", () => {
  let server: TestServer;
  let users: { id: string; token: string }[];
  beforeAll(async () => {
    const dataDir = tempDir();
    users = await seedUsers(dataDir, 200);
    server = await startServer({ dataDir });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("all open their streams at once (SSE, Connect and gRPC)", async () => {
    const opened = await Promise.all(
      users.map(async ({ token }, i) => {
        if (i % 2 === 0) return openSse(server.url, token);
        const stream = subscribe(i % 4 === 1 ? "connect-json" : "grpc", server.url, token, { direct: true });
        try {
          await Promise.race([stream.until((frames) => frames.some((f) => f.case === "ready"), 60_000), stream.ended]);
          const ready = stream.frames.some((f) => f.case === "ready");
          return ready ? 200 : (await stream.ended).code;
        } finally {
          stream.cancel();
        }
      }),
    );
    const refused = opened.map((status, i) => ({ i, status })).filter(({ status }) => status !== 200);
    expect(refused, JSON.stringify(refused.slice(0, 5))).toEqual([]);
  });
});

describe("each limit on its own", () => {
  const statusesOf = async (from: string, url: string, count: number, init: Parameters<typeof send>[2]) => {
    const agent = agentFrom(from, 1);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < count; i++) statuses.push((await send(agent, url, init)).status);
      return statuses;
    } finally {
      agent.destroy();
    }
  };
  const me = (token: string) => ({ path: "/me", headers: { authorization: `Bearer ${token}` } });

  it("per user: a signed-in user is limited, another user on the same address is not", async () => {
    const server = await startServer({ env: { USER_RATE_LIMIT_PER_SECOND: "1", USER_RATE_LIMIT_BURST: "5" } });
    try {
      const [a, b] = [await newUser(server.url), await newUser(server.url)];
      const first = await statusesOf("127.0.0.11", server.url, 8, me(a.token));
      expect(first.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(first.slice(5)).toEqual([429, 429, 429]);
      expect(await statusesOf("127.0.0.11", server.url, 5, me(b.token))).toEqual([200, 200, 200, 200, 200]);
      // From another address the user is still over its limit: it is the user's, not the address's.
      expect(await statusesOf("127.0.0.12", server.url, 1, me(a.token))).toEqual([429]);
    } finally {
      await server.stop();
    }
  });

  it("per address: calls without valid credentials are limited, signed-in calls from that address are not", async () => {
    const server = await startServer({ env: { ADDRESS_RATE_LIMIT_PER_SECOND: "1", ADDRESS_RATE_LIMIT_BURST: "5" } });
    try {
      const user = await newUser(server.url);
      const anonymous = [
        { path: "/me" },
        { path: "/me", headers: { authorization: "Bearer not-a-token" } },
        { path: "/auth/signin", json: { username: "nobody-here", password: "not the password" } },
      ];
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push(...(await statusesOf("127.0.0.21", server.url, 1, anonymous[i % 3]!)));
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      // The address's anonymous budget is spent; its signed-in users are counted per user.
      expect(await statusesOf("127.0.0.21", server.url, 10, me(user.token))).toEqual(Array(10).fill(200));
      // Streams refuse anonymous callers from that address the same way.
      const stream = await send(agentFrom("127.0.0.21", 1), server.url, { path: "/me/subscribe", headers: { accept: "text/event-stream" } });
      expect(stream.status).toBe(429);
      // Another address has its own budget.
      expect(await statusesOf("127.0.0.22", server.url, 1, { path: "/me" })).toEqual([401]);
    } finally {
      await server.stop();
    }
  });

  it("the flood ceiling: every call of an address counts, signed in or not", async () => {
    const server = await startServer({ env: { FLOOD_LIMIT_PER_SECOND: "1", FLOOD_LIMIT_BURST: "20" } });
    try {
      const [a, b] = [await newUser(server.url), await newUser(server.url)];
      const statuses = [
        ...(await statusesOf("127.0.0.31", server.url, 15, me(a.token))),
        ...(await statusesOf("127.0.0.31", server.url, 15, me(b.token))),
      ];
      // 20 at once, then one a second.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(26);
      expect(statuses.slice(-2)).toEqual([429, 429]);
      expect(await statusesOf("127.0.0.32", server.url, 3, me(a.token))).toEqual([200, 200, 200]);
    } finally {
      await server.stop();
    }
  });
});
