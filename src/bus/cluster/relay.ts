/**
 * The primary's half of the cluster bus: every bus event a worker sends is sent on to every
 * live worker, the sender included, in the order the primary received them — one order for the
 * whole node. The primary can also broadcast events of its own (the sequencer's new messages,
 * cluster/sequencer.ts). Events for a worker that is not connected (starting, restarting) are
 * dropped: the bus is at most once; clients resume from the store.
 */
import type { BusEvent } from "../bus.js";
import { type BusEnvelope, isBusEnvelope } from "./envelope.js";

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

export interface Relay {
  /** Sends an event of the primary's own to every live worker, after everything sent before. */
  broadcast(event: BusEvent): void;
  stop(): void;
}

/** Starts relaying between the workers of `cluster`. */
export function relayBus(cluster: RelayCluster): Relay {
  const sendToAll = (envelope: BusEnvelope) => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(envelope);
    }
  };
  const onMessage = (_from: RelayWorker, message: unknown) => {
    if (isBusEnvelope(message)) sendToAll(message);
  };
  cluster.on("message", onMessage);
  return {
    broadcast: (event) => sendToAll({ parleyBus: event }),
    stop: () => cluster.off("message", onMessage),
  };
}
