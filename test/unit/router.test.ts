/**
 * The router's table on a real HTTP server (port 0), with handlers that record whether they were
 * asked: the first row that claims answers, later rows are not asked, a row that decides later
 * (a promise) resumes the walk after itself, and what no row claims is 404. The rows' real
 * handlers are exercised by the e2e suites through the whole server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { sendJson } from "../../src/edges/http/respond.js";
import { createRouter, type RouterHandlers } from "../../src/edges/router.js";

type Name = "cors" | "fastPaths" | "rpc" | "ops" | "rest" | "sse" | "statics";

/** Handlers that record each ask; `claim` names the one that answers (the plain-HTTP rows through a promise when `later`). */
function handlers(claim: Name | undefined, asked: Name[], later = false): RouterHandlers {
  const now = (name: Name) => (_req: unknown, res: unknown): boolean => {
    asked.push(name);
    if (name !== claim) return false;
    sendJson(res as ServerResponse, 200, { by: name });
    return true;
  };
  const http = (name: Name) => (req: IncomingMessage, res: ServerResponse) => (later ? Promise.resolve(now(name)(req, res)) : now(name)(req, res));
  // REST and the page's files always decide through a promise.
  const async = (name: Name) => (req: IncomingMessage, res: ServerResponse) => Promise.resolve(now(name)(req, res));
  return {
    cors: now("cors"),
    fastPaths: now("fastPaths"),
    rpc: { claim: now("rpc"), handOver: () => undefined },
    ops: http("ops"),
    rest: async("rest"),
    sse: http("sse"),
    statics: async("statics"),
    upgrade: (_req, socket) => socket.destroy(),
    trustedProxies: [],
    logger: createLogger("silent"),
  };
}

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function ask(routes: RouterHandlers, path = "/x"): Promise<{ status: number; body: unknown }> {
  const router = createRouter(routes);
  server = createServer((req, res) => router.serve(req, res));
  await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
  return { status: response.status, body: await response.json() };
}

describe("the router's table", () => {
  it("asks the rows in order and stops at the first that claims", async () => {
    const asked: Name[] = [];
    expect(await ask(handlers("rpc", asked))).toEqual({ status: 200, body: { by: "rpc" } });
    expect(asked).toEqual(["cors", "fastPaths", "rpc"]);
  });

  it("resumes after a row that declines later, up to the last row", async () => {
    const asked: Name[] = [];
    expect(await ask(handlers("statics", asked, true))).toEqual({ status: 200, body: { by: "statics" } });
    expect(asked).toEqual(["cors", "fastPaths", "rpc", "ops", "rest", "sse", "statics"]);
  });

  it("answers 404 when no row claims", async () => {
    const asked: Name[] = [];
    expect(await ask(handlers(undefined, asked), "/nowhere?q=1")).toEqual({ status: 404, body: { code: "not_found", message: "no route for GET /nowhere" } });
    expect(asked).toEqual(["cors", "fastPaths", "rpc", "ops", "rest", "sse", "statics"]);
  });
});
