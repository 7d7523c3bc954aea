/**
 * The per-username sign-in limit is the node's, not each worker's: with two workers (the default
 * on a two-core machine) and the default SIGNIN_LIMIT_PER_MINUTE of 10, at most 10 attempts on
 * one username are answered before the 429s, whichever workers the attempts reach. Each worker
 * kept its own bucket, so a node admitted 20. Attempts go on fresh connections (the primary
 * spreads connections over the workers), from distinct loopback addresses so that the
 * per-address sign-in budget is not what stops them, and in letter-case variants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser } from "../support/clients.js";
import { Agent } from "node:http";
import { send } from "../support/loopback.js";
import { DEFAULT_LIMITS_ENV, startServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { ...DEFAULT_LIMITS_ENV, WORKERS: "2" } });
});
afterAll(async () => {
  await server?.stop();
});

describe("the per-username sign-in limit on a node of two workers", () => {
  it("admits at most SIGNIN_LIMIT_PER_MINUTE attempts for the node", async () => {
    const user = await newUser(server.url);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 24; attempt++) {
      const username = attempt % 2 === 0 ? user.user.username.toUpperCase() : user.user.username;
      const agent = new Agent({ keepAlive: false, localAddress: `127.0.1.${attempt + 1}` });
      const res = await send(agent, server.url, { path: "/auth/signin", json: { username, password: "wrong password" } });
      agent.destroy();
      statuses.push(res.status);
    }
    const answered = statuses.filter((s) => s !== 429);
    expect(answered.every((s) => s === 401), statuses.join(" ")).toBe(true);
    expect(answered.length, statuses.join(" ")).toBeLessThanOrEqual(10);
    // At least one worker's share (5), less the sign-in newUser made, which may have used it.
    expect(answered.length, statuses.join(" ")).toBeGreaterThanOrEqual(4);
  });
});
