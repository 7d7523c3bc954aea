/**
 * The primary's message writer for a node of several workers on one SQLite file. Each worker
 * sends its appends here (store/cluster/sequenced-store.ts); the sequencer gives every message a
 * fresh id from its own generator at the moment it queues the append, the store commits the
 * appends of one turn in one transaction in that order, and each new message is broadcast to
 * every worker (bus/cluster/relay.ts) before its sender gets the reply. So across the node:
 * id order = commit order = the order every subscriber receives messages in — with no window
 * in which a lower id is committed after a higher one was delivered (which would make a client
 * that resumes with `since` skip it).
 *
 * A worker that dies after asking loses only the reply: the message is stored and delivered,
 * and the client's retry with its client_message_id finds it.
 */
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { Store } from "../store/store.js";
import type { ChatMessage } from "../domain/model.js";
import type { BusEvent } from "../bus/bus.js";
import type { RelayCluster, RelayWorker } from "../bus/cluster/relay.js";
import { type AppendReply, isAppendRequest } from "./append-envelopes.js";

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
