/**
 * The bus of one worker process of a multi-process node (Node cluster, WORKERS > 1): publish()
 * sends the event to the primary over IPC, and the primary sends every event to every worker —
 * this one included — in the order it received them (relay.ts). So every worker of the node sees
 * the same order of events: per-channel order holds, at most once per worker (a worker that
 * restarts misses what was sent meanwhile; its clients resume from the store with `since`).
 * Live order across workers is the primary's arrival order. On SQLite the primary is also the
 * node's message writer (cluster/sequencer.ts): it broadcasts each new message itself, right
 * after its commit and in id order, so this bus then sends only the other events (`sequenced`).
 */
import type { Bus, BusEvent, BusListener } from "../bus.js";
import { type BusEnvelope, isBusEnvelope } from "./envelope.js";

/** The IPC side of a worker process (process itself; a stand-in in tests). */
export interface IpcPort {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

export class ClusterBus implements Bus {
  #listener: BusListener | undefined;
  #closed = false;
  readonly #onMessage = (message: unknown) => {
    if (isBusEnvelope(message)) this.#listener?.(message.parleyBus);
  };

  /**
   * @param sequenced the primary broadcasts new messages itself (cluster/sequencer.ts), so
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
