/**
 * A stream ticket is single use on a node of several worker processes — the default
 * (`WORKERS=auto`, one per core; two are asked for here so the test means the same on any
 * machine). Each worker used to remember its own redeemed tickets, so one ticket opened a
 * stream on every worker. Attempts are sent at once over SSE and WebSocket, on fresh
 * connections that the primary spreads over the workers: exactly one may open.
 */
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { WORKERS: "2" } });
});
afterAll(async () => {
  await server?.stop();
});

async function ticketFor(token: string): Promise<string> {
  const res = await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** Opens SSE with the ticket on a fresh connection: its status (the stream is cancelled at once). */
async function sseStatus(ticket: string): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/me/subscribe?ticket=${ticket}`, { headers: { accept: "text/event-stream", connection: "close" }, signal: controller.signal });
  controller.abort();
  return res.status;
}

/** Upgrades with the ticket: "open" or the refusal's status. */
function wsOutcome(ticket: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/me/subscribe?ticket=${ticket}`);
    ws.once("open", () => {
      ws.terminate();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
    ws.once("error", () => resolve("error"));
  });
}

describe("stream tickets on a node of two workers", () => {
  it("open one stream, however many workers the attempts reach", async () => {
    const user = await newUser(server.url);
    for (let round = 0; round < 3; round++) {
      const ticket = await ticketFor(user.token);
      const outcomes = await Promise.all([
        ...Array.from({ length: 4 }, () => sseStatus(ticket).then(String)),
        ...Array.from({ length: 4 }, () => wsOutcome(ticket)),
      ]);
      const opened = outcomes.filter((o) => o === "200" || o === "open");
      expect(opened, `round ${round}: ${outcomes.join(", ")}`).toHaveLength(1);
      expect(outcomes.filter((o) => o === "401"), `round ${round}: ${outcomes.join(", ")}`).toHaveLength(7);
    }
  });
});
