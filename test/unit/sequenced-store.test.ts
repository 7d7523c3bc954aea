/**
 * The sequenced store (worker side) and the sequencer (primary side) joined by in-memory IPC
 * channels that deliver asynchronously and in order, as Node's do, over a real SQLite file.
 * The real processes are covered by test/e2e/cluster.test.ts.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { relayBus, isBusEnvelope, type Relay } from "../../src/cluster/cluster-bus.js";
import type { RelayCluster, RelayWorker } from "../../src/cluster/ipc.js";
import { sequencedStore, startSequencer } from "../../src/cluster/sequenced-appends.js";
import { SnowflakeGenerator } from "../../src/domain/ids.js";
import type { ChatMessage } from "../../src/domain/model.js";
import type { Store } from "../../src/store/store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { Fixtures, message } from "../contract/store-fixtures.js";

const PRIMARY_WORKER_ID = 900;
const workerOf = (id: string) => Number((BigInt(id) >> 12n) & 1023n);

/** One worker's IPC channel; `received` is everything the primary sent it, in order. */
function channel(primary: EventEmitter) {
  const workerSide = new EventEmitter();
  const received: unknown[] = [];
  let connected = true;
  const worker: RelayWorker = {
    isConnected: () => connected,
    send(msg) {
      const copy: unknown = JSON.parse(JSON.stringify(msg));
      setImmediate(() => {
        received.push(copy);
        workerSide.emit("message", copy);
      });
      return true;
    },
  };
  const port = {
    send(msg: unknown, callback?: (error: Error | null) => void) {
      const copy: unknown = JSON.parse(JSON.stringify(msg));
      setImmediate(() => {
        if (connected) primary.emit("message", worker, copy);
        callback?.(null);
      });
      return true;
    },
    on: (event: string, listener: (...args: unknown[]) => void) => workerSide.on(event, listener),
    off: (event: string, listener: (...args: unknown[]) => void) => workerSide.off(event, listener),
  };
  const disconnect = () => {
    connected = false;
    workerSide.emit("disconnect");
  };
  return { worker, port, received, disconnect };
}

let dir: string;
let file: SqliteStore;
let relay: Relay;
let stopSequencer: () => void;
let channels: ReturnType<typeof channel>[];
let stores: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "parley-seq-"));
  file = new SqliteStore({ file: join(dir, "parley.sqlite"), synchronous: "NORMAL" });
  const primary = new EventEmitter();
  channels = [channel(primary), channel(primary)];
  const cluster: RelayCluster = {
    workers: Object.fromEntries(channels.map((c, i) => [String(i + 1), c.worker])),
    on: (event, listener) => primary.on(event, listener),
    off: (event, listener) => primary.off(event, listener),
  };
  relay = relayBus(cluster);
  stopSequencer = startSequencer({ cluster, store: file, ids: new SnowflakeGenerator(PRIMARY_WORKER_ID), broadcast: relay.broadcast });
  // Each worker opens the file itself, as worker processes do.
  stores = channels.map((c) => sequencedStore(new SqliteStore({ file: join(dir, "parley.sqlite"), synchronous: "NORMAL" }), c.port));
});

afterEach(async () => {
  stopSequencer();
  relay.stop();
  await Promise.all(stores.map((s) => s.close()));
  await file.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The messages a worker received as bus events, in order. */
const broadcastIds = (received: unknown[]): string[] =>
  received.filter(isBusEnvelope).map((e) => (e.parleyBus.type === "message" ? e.parleyBus.message.id : ""));

describe("sequenced appends", () => {
  it("stores each message under a primary id, in request order, and broadcasts it to every worker before the reply", async () => {
    const fx = new Fixtures(() => stores[0]!);
    const alice = await fx.user();
    const room = await fx.room();
    // Worker ids 1 and 2 propose ids; the second worker's proposals are all *lower*.
    const high = new SnowflakeGenerator(2);
    const proposedHigh = Array.from({ length: 5 }, (_, i) => message(high, { kind: "room", id: room.id }, alice, `a${i}`));
    const low = new SnowflakeGenerator(1, () => Date.now() - 60_000);
    const proposedLow = Array.from({ length: 5 }, (_, i) => message(low, { kind: "room", id: room.id }, alice, `b${i}`));
    const results = await Promise.all([
      ...proposedHigh.map((m) => stores[0]!.appendMessage(m)),
      ...proposedLow.map((m) => stores[1]!.appendMessage(m)),
    ]);
    const stored = results.map((r) => r.message);
    expect(results.every((r) => r.created)).toBe(true);
    expect(stored.every((m) => workerOf(m.id) === PRIMARY_WORKER_ID)).toBe(true);
    const listed = (await stores[1]!.listRoomMessages(room.id, { limit: 100 })).map((m: ChatMessage) => m.id).reverse();
    // Stored order = id order = the order every worker got the broadcasts in.
    expect([...listed].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(listed);
    for (const c of channels) expect(broadcastIds(c.received)).toEqual(listed);
    // The reply came after that message's broadcast on the sender's channel.
    const sender = channels[0]!.received;
    const replyAt = sender.findIndex((m) => typeof m === "object" && m !== null && "parleyAppended" in m);
    const broadcastAt = sender.findIndex((m) => isBusEnvelope(m) && m.parleyBus.type === "message" && m.parleyBus.message.id === stored[0]!.id);
    expect(broadcastAt).toBeLessThan(replyAt);
  });

  it("returns the first message for a repeated idempotency key and broadcasts nothing new", async () => {
    const fx = new Fixtures(() => stores[0]!);
    const alice = await fx.user();
    const room = await fx.room();
    const ids = new SnowflakeGenerator(3);
    const key = { senderId: alice.id, key: "k1", expiresAtMs: Date.now() + 60_000 };
    const first = await stores[0]!.appendMessage(message(ids, { kind: "room", id: room.id }, alice, "once"), key);
    const again = await stores[1]!.appendMessage(message(ids, { kind: "room", id: room.id }, alice, "once"), key);
    expect(again).toEqual({ message: first.message, created: false });
    await new Promise((r) => setImmediate(r));
    for (const c of channels) expect(broadcastIds(c.received)).toEqual([first.message.id]);
  });

  it("rejects with the primary's error when the append fails, and stores nothing", async () => {
    const fx = new Fixtures(() => stores[0]!);
    const alice = await fx.user();
    const room = await fx.room();
    // The primary's connection to the file is gone: its append throws.
    await file.close();
    const doomed = message(new SnowflakeGenerator(3), { kind: "room", id: room.id }, alice, "doomed");
    await expect(stores[0]!.appendMessage(doomed)).rejects.toThrow(/^the primary could not store the message: .+/);
    expect(await stores[1]!.listRoomMessages(room.id, { limit: 10 })).toEqual([]);
    for (const c of channels) expect(broadcastIds(c.received)).toEqual([]);
  });

  it("rejects pending appends when the primary goes away", async () => {
    const fx = new Fixtures(() => stores[0]!);
    const alice = await fx.user();
    const room = await fx.room();
    const pending = stores[0]!.appendMessage(message(new SnowflakeGenerator(3), { kind: "room", id: room.id }, alice, "lost?"));
    channels[0]!.disconnect();
    await expect(pending).rejects.toThrow(/primary process is gone/);
  });
});
