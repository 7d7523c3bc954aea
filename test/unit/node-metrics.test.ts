/**
 * The node's /metrics protocol (src/cluster/node-metrics.ts) over an IPC channel that, like
 * Node's, carries JSON: a scrape on a worker answers the sum of every process, values JSON cannot
 * carry (NaN, ±Infinity) survive the trip, and a worker that does not answer is left out.
 */
import { EventEmitter } from "node:events";
import { Gauge } from "prom-client";
import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/observability/metrics.js";
import type { RelayCluster, RelayWorker } from "../../src/cluster/ipc.js";
import { joinNodeMetrics, serveNodeMetrics } from "../../src/cluster/node-metrics.js";
import { createLogger } from "../../src/observability/logger.js";

/** One worker process and the primary's view of it, joined by a JSON channel. */
function link(cluster: EventEmitter, id: string): { worker: EventEmitter & { send(m: unknown): boolean }; handle: RelayWorker } {
  const worker = Object.assign(new EventEmitter(), {
    send: (message: unknown) => (setImmediate(() => cluster.emit("message", handle, JSON.parse(JSON.stringify(message)))), true),
  });
  const handle: RelayWorker = {
    isConnected: () => true,
    send: (message) => (setImmediate(() => worker.emit("message", JSON.parse(JSON.stringify(message)))), true),
  };
  void id;
  return { worker, handle };
}

function gauge(metrics: Metrics, value: number): void {
  new Gauge({ name: "test_value", help: "a value", labelNames: ["kind"], registers: [metrics.registry] }).set({ kind: "x" }, value);
}

describe("node metrics over a JSON channel", () => {
  it("sums the processes, keeps a worker's NaN NaN, labels runtime metrics per process", async () => {
    const cluster = new EventEmitter();
    const a = link(cluster, "1");
    const b = link(cluster, "2");
    const workers: Record<string, RelayWorker> = { "1": a.handle, "2": b.handle };
    const own = new Metrics("primary");
    const stop = serveNodeMetrics(Object.assign(cluster, { workers }) as unknown as RelayCluster, own, createLogger("silent"));
    const ma = new Metrics("10");
    const mb = new Metrics("11");
    joinNodeMetrics(ma, a.worker);
    joinNodeMetrics(mb, b.worker);
    ma.rpcs.inc({ procedure: "/p", code: "ok" }, 2);
    mb.rpcs.inc({ procedure: "/p", code: "ok" }, 3);
    own.messagesPosted.inc({ kind: "room" }, 4);
    gauge(ma, NaN);
    gauge(mb, NaN);
    const text = await ma.exposition();
    expect(text).toContain('parley_rpcs_total{procedure="/p",code="ok"} 5');
    expect(text).toContain('parley_messages_posted_total{kind="room"} 4');
    expect(text).toContain('test_value{kind="x"} Nan');
    expect(text).toMatch(/process_cpu_user_seconds_total\{worker="10"\}/);
    expect(text).toMatch(/process_cpu_user_seconds_total\{worker="primary"\}/);
    stop();
  });

  it("carries -Infinity as -Infinity", async () => {
    const cluster = new EventEmitter();
    const a = link(cluster, "1");
    const own = new Metrics("primary");
    const stop = serveNodeMetrics(Object.assign(cluster, { workers: { "1": a.handle } }) as unknown as RelayCluster, own, createLogger("silent"));
    const ma = new Metrics("10");
    joinNodeMetrics(ma, a.worker);
    gauge(ma, -Infinity);
    expect(await ma.exposition()).toContain('test_value{kind="x"} -Inf');
    stop();
  });
});
