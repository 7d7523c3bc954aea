/**
 * The cluster bus, both halves: the bus of one worker process of a multi-process node (Node
 * cluster, WORKERS > 1), and the primary's relay (relayBus, below). publish()
 * sends the event to the primary over IPC, and the primary sends every event to every worker —
 * this one included — in the order it received them (relayBus, below). So every worker of the node sees
 * the same order of events: per-channel order holds, at most once per worker (a worker that
 * restarts misses what was sent meanwhile; its clients resume from the store with `since`).
 * Live order across workers is the primary's arrival order. On SQLite the primary is also the
 * node's message writer (sequenced-appends.ts): it broadcasts each new message itself, right
 * after its commit and in id order, so this bus then sends only the other events (`sequenced`).
 */
import type { Bus, BusEvent, BusListener } from "../bus/bus.js";
import type { IpcPort, RelayCluster, RelayWorker } from "./ipc.js";

/** How a bus event travels over the cluster's IPC channels, told apart from other IPC messages. */
export interface BusEnvelope {
  readonly parleyBus: BusEvent;
}

export function isBusEnvelope(message: unknown): message is BusEnvelope {
  return typeof message === "object" && message !== null && "parleyBus" in message;
}

export class ClusterBus implements Bus {
  #listener: BusListener | undefined;
  #closed = false;
  readonly #onMessage = (message: unknown) => {
    if (isBusEnvelope(message)) this.#listener?.(message.parleyBus);
  };

  /**
   * @param sequenced the primary broadcasts new messages itself (sequenced-appends.ts), so
   *   publishing a message event here is a no-op — it has already gone to every worker.
   */
  constructor(
    private readonly port: IpcPort = process,
    private readonly sequenced = false,
  ) {
    if (!port.send) throw new Error("the cluster bus needs an IPC channel to the primary (run with WORKERS > 1)");
  }

  async start(listener: BusListener): Promise<void> {
    this.#listener = listener;
    this.port.on("message", this.#onMessage);
  }

  /** Resolves once the event is handed to the IPC channel (accepted by the bus); rejects after close(). */
  publish(event: BusEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the cluster bus is closed"));
    if (this.sequenced && event.type === "message") return Promise.resolve();
    const envelope: BusEnvelope = { parleyBus: event };
    return new Promise((resolve, reject) => {
      this.port.send!(envelope, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.port.off("message", this.#onMessage);
    this.#listener = undefined;
  }
}

/**
 * The primary's half of the cluster bus: every bus event a worker sends is sent on to every
 * live worker, the sender included, in the order the primary received them — one order for the
 * whole node. The primary can also broadcast events of its own (the sequencer's new messages,
 * sequenced-appends.ts). Events for a worker that is not connected (starting, restarting) are
 * dropped: the bus is at most once; clients resume from the store.
 */
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
