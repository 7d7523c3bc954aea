/**
 * A node of several worker processes (WORKERS=2): both workers serve the one port, each with its
 * own worker id in message ids, and the bus carried through the primary delivers a post made on
 * either worker to subscribers on both. SIGTERM stops the whole node cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { collect } from "../support/frames.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { WORKERS: "2", WORKER_ID: "40" } });
  const deadline = Date.now() + 30_000;
  while (!server.output().includes('"msg":"parley cluster listening"')) {
    if (Date.now() > deadline) throw new Error(`cluster did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await server?.kill();
});

/** The worker id bits of a snowflake id (see src/domain/ids.ts). */
const workerOf = (id: string) => Number((BigInt(id) >> 12n) & 1023n);

describe("cluster of two workers", () => {
  it("delivers posts made on any worker to subscribers on every worker", async () => {
    const owner = await newUser(server.url, "grpc");
    const { room } = await owner.clients.rooms.createRoom({ name: uniqueName("cluster") });
    const roomId = room!.roomId;
    // Each chatClients() call opens its own HTTP/2 connection; round-robin spreads them over the workers.
    const controller = new AbortController();
    const streams = Array.from({ length: 4 }, () =>
      chatClients(server.url, owner.token, "grpc").messages.subscribeRoom({ roomId }, { signal: controller.signal })[Symbol.asyncIterator](),
    );
    for (const s of streams) await collect(s, (c) => c.cases.includes("ready"));
    const posted: string[] = [];
    for (let i = 0; i < 4; i++) {
      const poster = chatClients(server.url, owner.token, "grpc");
      const { message } = await poster.messages.postMessage({ roomId, text: `p${i}` });
      posted.push(message!.messageId);
    }
    expect(new Set(posted.map(workerOf))).toEqual(new Set([40, 41]));
    for (const s of streams) {
      const got = await collect(s, (c) => c.texts.length >= 4);
      expect(got.texts).toEqual(["p0", "p1", "p2", "p3"]);
    }
    controller.abort();
  });

  it("stops every worker and exits 0 on SIGTERM", async () => {
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('"msg":"parley cluster stopped"');
  });
});
