/**
 * The IPC channels between a node's primary and its workers: what each side needs of them
 * (IpcPort, RelayCluster), and batching — one message per event-loop turn and direction: what
 * a side sends during a turn is queued and goes out as one `{parleyBatch: [...]}` (or alone, if
 * it is the only one), and the receiving side hands the items to its listeners one by one, in
 * order. Each node:child_process send is a JSON write and a syscall on both ends — ≈ 70 µs of a
 * worker's main thread per append request at 10,000 users and 1,000 posts/s, more than the post
 * itself — so at load a turn's appends, broadcasts and replies share one.
 *
 * Order is what the relay and the sequencer rely on, and it is kept: one outbox per channel, so
 * the primary's broadcast of a new message still reaches a worker before the reply to its
 * append, and a worker's sends reach the primary in the order it made them.
 */
import cluster from "node:cluster";
import { EventEmitter } from "node:events";

/** The IPC side of a worker process (process itself; a stand-in in tests). */
export interface IpcPort {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

/** A worker as the primary sees it (node:cluster's Worker has all of it). */
export interface RelayWorker {
  isConnected(): boolean;
  send(message: unknown): boolean;
}

/** node:cluster in the primary, as the relay, the sequencer and the node's buckets see it. */
export interface RelayCluster {
  readonly workers?: Readonly<Record<string, RelayWorker | undefined>>;
  on(event: "message", listener: (worker: RelayWorker, message: unknown) => void): unknown;
  off(event: "message", listener: (worker: RelayWorker, message: unknown) => void): unknown;
}

/** Several IPC messages sent as one, in order. */
interface Batch {
  readonly parleyBatch: readonly unknown[];
}

function isBatch(message: unknown): message is Batch {
  return typeof message === "object" && message !== null && Array.isArray((message as Partial<Batch>).parleyBatch);
}

/** The messages one IPC message carries. */
function itemsOf(message: unknown): readonly unknown[] {
  return isBatch(message) ? message.parleyBatch : [message];
}

type SendCallback = (error: Error | null) => void;
type SendNow = (message: unknown, callback: SendCallback) => void;

/** Queues what is sent during one event-loop turn and sends it as one IPC message. */
class Outbox {
  #items: unknown[] = [];
  #callbacks: SendCallback[] = [];
  #scheduled = false;

  constructor(private readonly sendNow: SendNow) {}

  send(message: unknown, callback?: SendCallback): boolean {
    this.#items.push(message);
    if (callback) this.#callbacks.push(callback);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return true;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const items = this.#items;
    const callbacks = this.#callbacks;
    this.#items = [];
    this.#callbacks = [];
    const settle: SendCallback = (error) => {
      for (const callback of callbacks) callback(error);
    };
    try {
      this.sendNow(items.length === 1 ? items[0] : ({ parleyBatch: items } satisfies Batch), settle);
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)));
    }
  };
}

/** What the primary needs of node:cluster (its Worker objects have all of this). */
export interface ClusterWorker {
  isConnected(): boolean;
  send(message: unknown, sendHandle: undefined, options: undefined, callback: SendCallback): boolean;
}

export interface BatchingClusterSource {
  readonly workers?: Readonly<Record<string, ClusterWorker | undefined>>;
  on(event: "message", listener: (worker: ClusterWorker, message: unknown) => void): unknown;
}

/** node:cluster as the relay and the sequencer see it, with every channel batched. */
export function batchingCluster(cluster: BatchingClusterSource): RelayCluster {
  const listeners = new EventEmitter();
  const wrapped = new WeakMap<ClusterWorker, RelayWorker>();
  const wrap = (worker: ClusterWorker): RelayWorker => {
    let relayWorker = wrapped.get(worker);
    if (!relayWorker) {
      const outbox = new Outbox((message, callback) => {
        // A worker that went away meanwhile misses the batch, as it would have missed each send.
        if (worker.isConnected()) worker.send(message, undefined, undefined, callback);
        else callback(new Error("the worker is not connected"));
      });
      relayWorker = { isConnected: () => worker.isConnected(), send: (message) => outbox.send(message) };
      wrapped.set(worker, relayWorker);
    }
    return relayWorker;
  };
  cluster.on("message", (worker, message) => {
    const from = wrap(worker);
    for (const item of itemsOf(message)) listeners.emit("message", from, item);
  });
  return {
    get workers() {
      const out: Record<string, RelayWorker> = {};
      for (const [id, worker] of Object.entries(cluster.workers ?? {})) if (worker) out[id] = wrap(worker);
      return out;
    },
    on(event, listener) {
      listeners.on(event, listener);
      return this;
    },
    off(event, listener) {
      listeners.off(event, listener);
      return this;
    },
  };
}

/** What a worker needs of its process: the IPC channel to the primary. */
export interface WorkerProcess {
  send?(message: unknown, sendHandle: undefined, options: undefined, callback: SendCallback): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
  on(event: "disconnect", listener: () => void): unknown;
  off(event: "disconnect", listener: () => void): unknown;
}

/** A worker's IPC port with its sends batched; one per process, shared by everything that talks to the primary. */
export type BatchingPort = IpcPort & {
  on(event: "disconnect", listener: () => void): unknown;
  off(event: "disconnect", listener: () => void): unknown;
};

export function batchingPort(proc: WorkerProcess): BatchingPort {
  const send = proc.send?.bind(proc);
  const outbox = send ? new Outbox((message, callback) => send(message, undefined, undefined, callback)) : undefined;
  const listeners = new EventEmitter();
  const onMessage = (message: unknown) => {
    for (const item of itemsOf(message)) listeners.emit("message", item);
  };
  // The process listens only while someone here does: a 'message' listener keeps the channel (and the process) alive.
  const listening = () => listeners.listenerCount("message") > 0;
  return {
    ...(outbox ? { send: (message: unknown, callback?: SendCallback) => outbox.send(message, callback) } : {}),
    on(event: "message" | "disconnect", listener: ((message: unknown) => void) & (() => void)) {
      if (event === "disconnect") return proc.on("disconnect", listener);
      if (!listening()) proc.on("message", onMessage);
      listeners.on("message", listener);
      return this;
    },
    off(event: "message" | "disconnect", listener: ((message: unknown) => void) & (() => void)) {
      if (event === "disconnect") return proc.off("disconnect", listener);
      listeners.off("message", listener);
      if (!listening()) proc.off("message", onMessage);
      return this;
    },
  } as BatchingPort;
}

let workerPort: BatchingPort | undefined;

/** This worker's one batched IPC channel to its primary; undefined in a process that is not a cluster worker. */
export function primaryPort(): BatchingPort | undefined {
  if (!cluster.isWorker) return undefined;
  return (workerPort ??= batchingPort(process));
}
