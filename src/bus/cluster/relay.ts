/**
 * The primary's half of the cluster bus: every bus event a worker sends is sent on to every
 * live worker, the sender included, in the order the primary received them — one order for the
 * whole node. Events for a worker that is not connected (starting, restarting) are dropped: the
 * bus is at most once; clients resume from the store.
 */
import { isBusEnvelope } from "./envelope.js";

/** What the relay needs of a cluster worker (node:cluster's Worker has it). */
export interface RelayWorker {
  isConnected(): boolean;
  send(message: unknown): boolean;
}

/** What the relay needs of node:cluster in the primary. */
export interface RelayCluster {
  readonly workers?: Readonly<Record<string, RelayWorker | undefined>>;
  on(event: "message", listener: (worker: RelayWorker, message: unknown) => void): unknown;
  off(event: "message", listener: (worker: RelayWorker, message: unknown) => void): unknown;
}

/** Starts relaying; returns the function that stops it. */
export function relayBus(cluster: RelayCluster): () => void {
  const onMessage = (_from: RelayWorker, message: unknown) => {
    if (!isBusEnvelope(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(message);
    }
  };
  cluster.on("message", onMessage);
  return () => cluster.off("message", onMessage);
}
