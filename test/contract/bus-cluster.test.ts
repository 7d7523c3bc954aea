/**
 * The bus contract against the cluster adapter: n worker-side ClusterBus instances and the
 * primary's relay, joined by in-memory IPC channels that deliver asynchronously and in order
 * (as Node's do). The real processes are covered by test/e2e/cluster.test.ts.
 */
import { EventEmitter } from "node:events";
import { ClusterBus, relayBus } from "../../src/cluster/cluster-bus.js";
import type { IpcPort, RelayCluster, RelayWorker } from "../../src/cluster/ipc.js";
import { busContract } from "./bus-contract.js";

/** One worker's IPC channel: the worker's `process` side and the primary's `Worker` side. */
function channel(primary: EventEmitter): { port: IpcPort; worker: RelayWorker } {
  const workerSide = new EventEmitter();
  // setImmediate keeps FIFO order per direction and makes delivery asynchronous, like real IPC.
  const worker: RelayWorker = {
    isConnected: () => true,
    send(message) {
      const copy: unknown = JSON.parse(JSON.stringify(message));
      setImmediate(() => workerSide.emit("message", copy));
      return true;
    },
  };
  const port: IpcPort = {
    send(message, callback) {
      const copy: unknown = JSON.parse(JSON.stringify(message));
      setImmediate(() => {
        primary.emit("message", worker, copy);
        callback?.(null);
      });
      return true;
    },
    on: (event, listener) => workerSide.on(event, listener),
    off: (event, listener) => workerSide.off(event, listener),
  };
  return { port, worker };
}

busContract(
  "cluster (primary relay, in-memory IPC)",
  async (n) => {
    const primary = new EventEmitter();
    const channels = Array.from({ length: n }, () => channel(primary));
    const cluster: RelayCluster = {
      workers: Object.fromEntries(channels.map((c, i) => [String(i + 1), c.worker])),
      on: (event, listener) => primary.on(event, listener),
      off: (event, listener) => primary.off(event, listener),
    };
    const relay = relayBus(cluster);
    const buses = channels.map((c) => new ClusterBus(c.port));
    return {
      buses,
      async cleanup() {
        await Promise.all(buses.map((b) => b.close()));
        relay.stop();
      },
    };
  },
  { nodes: 2, deliveryTimeoutMs: 5000 },
);
