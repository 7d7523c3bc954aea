/**
 * Every rate limit is the node's, however many workers share it: with one worker and with two
 * (the default on a two-core machine), a client whose calls reach every worker — each call on
 * a fresh connection, which the primary hands out round-robin — gets the limit's burst and
 * not WORKERS times it. When each worker kept its own buckets, two workers admitted about
 * twice the burst. Each limit is tested alone: the others are set far out of reach.
 *
 * The bounds, from DESIGN.md: a node admits at most burst + perSecond × (seconds elapsed);
 * at least the burst less what the other worker may hold leased and unspent (a lease is a
 * quarter of the burst shared over the workers).
 */
import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { send } from "../support/loopback.js";
import { uniqueName } from "../support/clients.js";

const BURST = 20;
const CALLS = 2 * BURST + 10;
const FAR = "1000000";

/** Sends `CALLS` calls, each on a new connection from 127.0.0.1; returns the statuses and the seconds they took. */
async function callsOnFreshConnections(url: string, init: { path: string; headers?: Record<string, string> }) {
  const started = performance.now();
  const statuses: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const agent = new Agent({ keepAlive: false, localAddress: "127.0.0.1" });
    statuses.push((await send(agent, url, init)).status);
    agent.destroy();
  }
  return { statuses, seconds: (performance.now() - started) / 1000 };
}

/** What the node may admit of a limit of BURST and 1/s in `seconds`: at most burst + elapsed, at least the burst less one lease per worker. */
function expectNodeBound(admitted: number, seconds: number, workers: number, statuses: number[]): void {
  const lease = Math.max(1, Math.floor(BURST / (4 * workers)));
  expect(admitted, statuses.join(" ")).toBeLessThanOrEqual(BURST + Math.ceil(seconds));
  expect(admitted, statuses.join(" ")).toBeGreaterThanOrEqual(BURST - (workers - 1) * lease);
}

describe.each([1, 2])("rate limits on a node of %i worker(s)", (workers) => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startServer({
      workers,
      env: {
        // The limit under test in each case is set with its own variables below; these are the defaults' ceiling.
        USER_RATE_LIMIT_PER_SECOND: "1",
        USER_RATE_LIMIT_BURST: String(BURST),
        ADDRESS_RATE_LIMIT_PER_SECOND: "1",
        ADDRESS_RATE_LIMIT_BURST: String(BURST),
        FLOOD_LIMIT_PER_SECOND: FAR,
        FLOOD_LIMIT_BURST: FAR,
        // Signing up the one user must not be what the address budget spends.
        SIGNIN_ADDRESS_LIMIT_PER_MINUTE: FAR,
        SIGNIN_ADDRESS_BURST: FAR,
      },
    });
    // From another address, so the anonymous budget of 127.0.0.1 stays whole.
    const elsewhere = new Agent({ keepAlive: false, localAddress: "127.0.0.2" });
    const account = { username: uniqueName("limits"), password: "correct horse battery" };
    expect((await send(elsewhere, server.url, { path: "/auth/signup", json: account })).status).toBe(201);
    const signedIn = await send(elsewhere, server.url, { path: "/auth/signin", json: account });
    token = (JSON.parse(signedIn.body) as { accessToken: string }).accessToken;
    elsewhere.destroy();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("per user: one user's signed-in calls", async () => {
    const { statuses, seconds } = await callsOnFreshConnections(server.url, { path: "/rooms", headers: { authorization: `Bearer ${token}` } });
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.every((s) => s === 200 || s === 429), statuses.join(" ")).toBe(true);
    expectNodeBound(admitted, seconds, workers, statuses);
  });

  it("per address: calls without valid credentials", async () => {
    const { statuses, seconds } = await callsOnFreshConnections(server.url, { path: "/rooms", headers: { authorization: "Bearer v4.public.not-a-token" } });
    const refusedAsUnauthenticated = statuses.filter((s) => s === 401).length;
    expect(statuses.every((s) => s === 401 || s === 429), statuses.join(" ")).toBe(true);
    expectNodeBound(refusedAsUnauthenticated, seconds, workers, statuses);
  });
});

describe.each([1, 2])("the flood ceiling on a node of %i worker(s)", (workers) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      workers,
      env: {
        FLOOD_LIMIT_PER_SECOND: "1",
        FLOOD_LIMIT_BURST: String(BURST),
        RATE_LIMIT_PER_SECOND: FAR,
        RATE_LIMIT_BURST: FAR,
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("counts every call of one address once for the node", async () => {
    const { statuses, seconds } = await callsOnFreshConnections(server.url, { path: "/rooms", headers: { authorization: "Bearer v4.public.not-a-token" } });
    const passed = statuses.filter((s) => s === 401).length;
    expect(statuses.every((s) => s === 401 || s === 429), statuses.join(" ")).toBe(true);
    expectNodeBound(passed, seconds, workers, statuses);
  });
});
