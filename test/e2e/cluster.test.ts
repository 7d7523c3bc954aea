/**
 * A node of several worker processes (WORKERS=2): both workers serve the one port, the bus
 * carried through the primary delivers a post made on either worker to subscribers on both, and
 * the primary — the node's one message writer on SQLite — gives messages their ids in commit
 * order, so every subscriber sees the node's messages in strictly increasing id order, the
 * order ListMessages returns. SIGTERM stops the whole node cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { collect } from "../support/frames.js";

let server: TestServer;
beforeAll(async () => {
  // debug: successful unary calls are logged at debug, and the test reads which process served posts.
  server = await startServer({ env: { WORKERS: "2", WORKER_ID: "40", LOG_LEVEL: "debug" } });
  await server.printed((output) => output.includes('"msg":"parley cluster listening"'), 30_000);
});
afterAll(async () => {
  await server?.kill();
});

/** The worker id bits of a snowflake id (see src/domain/ids.ts). */
const workerOf = (id: string) => Number((BigInt(id) >> 12n) & 1023n);

/** Process ids that logged a PostMessage RPC: which workers served posts. */
function postingPids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split("\n")) {
    if (!line.includes('"procedure":"/chat.v1.MessageService/PostMessage"')) continue;
    const entry = JSON.parse(line) as { pid: number };
    pids.add(entry.pid);
  }
  return pids;
}

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
    // Served by both workers, written by the primary (worker id WORKER_ID + WORKERS).
    expect(postingPids(server.output()).size).toBe(2);
    expect(new Set(posted.map(workerOf))).toEqual(new Set([42]));
    for (const s of streams) {
      const got = await collect(s, (c) => c.texts.length >= 4);
      expect(got.texts).toEqual(["p0", "p1", "p2", "p3"]);
    }
    controller.abort();
  });

  it("delivers concurrent posts from both workers to every subscriber in one increasing id order", async () => {
    const owner = await newUser(server.url, "grpc");
    const { room } = await owner.clients.rooms.createRoom({ name: uniqueName("order") });
    const roomId = room!.roomId;
    const controller = new AbortController();
    const streams = Array.from({ length: 4 }, () =>
      chatClients(server.url, owner.token, "grpc").messages.subscribeRoom({ roomId }, { signal: controller.signal })[Symbol.asyncIterator](),
    );
    for (const s of streams) await collect(s, (c) => c.cases.includes("ready"));
    // Eight users, each within its rate limit (a burst of 100 for the node, not per worker).
    const posters = (await Promise.all(Array.from({ length: 8 }, () => newUser(server.url, "grpc")))).map((user) => user.clients);
    const perPoster = 50;
    const total = posters.length * perPoster;
    await Promise.all(
      posters.map(async (poster, p) => {
        for (let i = 0; i < perPoster; i += 5) {
          await Promise.all(Array.from({ length: 5 }, (_, k) => poster.messages.postMessage({ roomId, text: `p${p}-${i + k}` })));
        }
      }),
    );
    const listed = (await owner.clients.messages.listMessages({ roomId, pageSize: 1000 })).messages.map((m) => m.messageId).reverse();
    expect(listed).toHaveLength(total);
    for (const s of streams) {
      const got = await collect(s, (c) => c.ids.length >= total, 20_000);
      // The same order everywhere: strictly increasing ids = the stored order.
      expect(got.ids).toEqual(listed);
    }
    controller.abort();
  });

  it("keeps client_message_id idempotent across workers", async () => {
    const owner = await newUser(server.url, "grpc");
    const { room } = await owner.clients.rooms.createRoom({ name: uniqueName("idem") });
    const roomId = room!.roomId;
    const tries = await Promise.all(
      Array.from({ length: 4 }, () => chatClients(server.url, owner.token, "grpc").messages.postMessage({ roomId, text: "once", clientMessageId: "retry-1" })),
    );
    expect(new Set(tries.map((t) => t.message!.messageId)).size).toBe(1);
    const listed = await owner.clients.messages.listMessages({ roomId });
    expect(listed.messages.map((m) => m.text)).toEqual(["once"]);
  });

  it("stops every worker and exits 0 on SIGTERM", async () => {
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('"msg":"parley cluster stopped"');
  });
});
