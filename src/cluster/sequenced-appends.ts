/**
 * Sequenced appends, both halves, for a node of several workers on one SQLite file: the
 * primary is the node's one message writer (startSequencer), and each worker's store sends its
 * appends there (sequencedStore) while reading and writing everything else itself.
 *
 * The primary gives every message a fresh id from its own generator at the moment it queues the
 * append, the store commits the appends of one turn in one transaction in that order, and each
 * new message is broadcast to every worker (cluster-bus.ts) before its sender gets the reply.
 * So across the node: id order = commit order = the order every subscriber receives messages in
 * — with no window in which a lower id is committed after a higher one was delivered (which
 * would make a client that resumes with `since` skip it).
 *
 * A worker that dies after asking loses only the reply: the message is stored and delivered,
 * and the client's retry with its client_message_id finds it. appendMessage therefore returns
 * the message with a later id than the one proposed (see the Store port); callers use the
 * returned message.
 */
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { ChatMessage } from "../domain/model.js";
import type { BusEvent } from "../bus/bus.js";
import type { AppendResult, IdempotencyKey, Store } from "../store/store.js";
import type { IpcPort, RelayCluster, RelayWorker } from "./ipc.js";

/** A worker asks the primary to store a message (the primary gives it its final id). */
interface AppendRequest {
  readonly parleyAppend: { readonly ref: number; readonly message: ChatMessage; readonly idempotency?: IdempotencyKey };
}

/** The primary's answer to one AppendRequest: the stored message, or why it failed. */
interface AppendReply {
  readonly parleyAppended: { readonly ref: number; readonly result?: AppendResult; readonly error?: string };
}

function isAppendRequest(message: unknown): message is AppendRequest {
  return typeof message === "object" && message !== null && "parleyAppend" in message;
}

function isAppendReply(message: unknown): message is AppendReply {
  return typeof message === "object" && message !== null && "parleyAppended" in message;
}

export interface SequencerDeps {
  readonly cluster: RelayCluster;
  readonly store: Store;
  /** The primary's own id generator (a worker id no worker uses). */
  readonly ids: SnowflakeGenerator;
  /** Sends a bus event to every worker (the relay's broadcast). */
  readonly broadcast: (event: BusEvent) => void;
  /** Called once per newly stored message (metrics). */
  readonly onStored?: (message: ChatMessage) => void;
}

/** Starts answering append requests; returns the function that stops it. */
export function startSequencer(deps: SequencerDeps): () => void {
  const onMessage = (worker: RelayWorker, message: unknown) => {
    if (!isAppendRequest(message)) return;
    const { ref, message: proposed, idempotency } = message.parleyAppend;
    // The id is taken in the same synchronous step as the append is queued: ids reach the
    // store's batch, and so its commit, in increasing order.
    const stored = { ...proposed, id: deps.ids.next() };
    deps.store.appendMessage(stored, idempotency).then(
      (result) => {
        if (result.created) {
          deps.onStored?.(result.message);
          deps.broadcast({ type: "message", message: result.message });
        }
        reply(worker, { parleyAppended: { ref, result } });
      },
      (error: unknown) => reply(worker, { parleyAppended: { ref, error: error instanceof Error ? error.message : String(error) } }),
    );
  };
  deps.cluster.on("message", onMessage);
  return () => deps.cluster.off("message", onMessage);
}

function reply(worker: RelayWorker, message: AppendReply): void {
  if (worker.isConnected()) worker.send(message);
}

/** A worker's channel to its primary, with the disconnect that fails appends still waiting. */
export type PrimaryPort = IpcPort & {
  on(event: "disconnect", listener: () => void): unknown;
  off(event: "disconnect", listener: () => void): unknown;
};

/**
 * A worker's store: `local` for everything but message appends, which go to the primary. Every
 * other Store method is forwarded as it is, so a method added to the port needs no edit here.
 */
export function sequencedStore(local: Store, port: PrimaryPort = process): Store {
  const appends = new AppendChannel(port);
  const own: Pick<Store, "appendMessage" | "close"> = {
    appendMessage: (message, idempotency) => appends.append(message, idempotency),
    close: async () => {
      appends.close();
      await local.close();
    },
  };
  const forwarded = new Map<PropertyKey, unknown>();
  return new Proxy(local, {
    get(target, property) {
      if (property === "appendMessage" || property === "close") return own[property];
      let value = forwarded.get(property);
      if (value === undefined) {
        const member: unknown = Reflect.get(target, property, target);
        value = typeof member === "function" ? member.bind(target) : member;
        if (typeof member === "function") forwarded.set(property, value);
      }
      return value;
    },
  });
}

interface Pending {
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Appends sent to the primary and waiting for its answer. */
class AppendChannel {
  readonly #pending = new Map<number, Pending>();
  #nextRef = 1;
  #closed = false;
  readonly #onMessage = (message: unknown) => {
    if (!isAppendReply(message)) return;
    const { ref, result, error } = message.parleyAppended;
    const pending = this.#pending.get(ref);
    if (!pending) return;
    this.#pending.delete(ref);
    if (result) pending.resolve(result);
    else pending.reject(new Error(`the primary could not store the message: ${error ?? "unknown error"}`));
  };
  readonly #onDisconnect = () => this.#failPending(new Error("the primary process is gone; the message may or may not be stored"));

  constructor(private readonly port: PrimaryPort) {
    if (!port.send) throw new Error("the sequenced store needs an IPC channel to the primary (run with WORKERS > 1)");
    port.on("message", this.#onMessage);
    port.on("disconnect", this.#onDisconnect);
  }

  append(message: ChatMessage, idempotency?: IdempotencyKey): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    const ref = this.#nextRef++;
    const request: AppendRequest = { parleyAppend: idempotency ? { ref, message, idempotency } : { ref, message } };
    return new Promise((resolve, reject) => {
      this.#pending.set(ref, { resolve, reject });
      this.port.send!(request, (error) => {
        if (!error) return;
        this.#pending.delete(ref);
        reject(error);
      });
    });
  }

  close(): void {
    this.#closed = true;
    this.port.off("message", this.#onMessage);
    this.port.off("disconnect", this.#onDisconnect);
    this.#failPending(new Error("the store is closed"));
  }

  #failPending(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }
}
