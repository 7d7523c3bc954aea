/**
 * Appending a batch of messages to the SQLite file in one transaction (one fsync): idempotency
 * keys checked and recorded, rows inserted, in the order given. Used by the append thread
 * (append-worker.ts); knows nothing of threads.
 */
import type { Database as Db, Statement } from "better-sqlite3";
import type { ChatMessage } from "../../domain/model.js";
import type { IdempotencyKey } from "../store.js";
import { MessageRows } from "./message-rows.js";

/** One message to append, with its sender's idempotency key if it has one. */
export interface AppendItem {
  readonly message: ChatMessage;
  readonly idempotency: IdempotencyKey | undefined;
}

/**
 * Per item of a batch: undefined when the item's message was stored, else the message its
 * idempotency key already names, or the message already stored under its id (nothing stored).
 */
export type AppendOutcome = ChatMessage | undefined;

export class MessageAppender {
  readonly #db: Db;
  readonly #rows: MessageRows;
  readonly #findKey: Statement;
  readonly #upsertKey: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#rows = new MessageRows(db);
    this.#findKey = db.prepare("SELECT message_id FROM idempotency_keys WHERE sender_id = ? AND key = ? AND expires_at_ms > ?");
    this.#upsertKey = db.prepare(
      "INSERT OR REPLACE INTO idempotency_keys (sender_id, key, message_id, expires_at_ms) VALUES (?, ?, ?, ?)",
    );
  }

  /** Appends every item in one IMMEDIATE transaction: all are committed, or none (and it throws). */
  appendBatch(items: readonly AppendItem[]): AppendOutcome[] {
    const outcomes: AppendOutcome[] = [];
    // IMMEDIATE takes the write lock up front: with several worker processes on one file, a
    // deferred transaction that read first could fail to upgrade (SQLITE_BUSY_SNAPSHOT).
    this.#db.transaction(() => {
      const now = Date.now();
      for (const item of items) outcomes.push(this.#appendOne(item, now));
    }).immediate();
    return outcomes;
  }

  #appendOne({ message, idempotency }: AppendItem, now: number): AppendOutcome {
    if (idempotency) {
      const sender = BigInt(idempotency.senderId);
      const seen = this.#findKey.get(sender, idempotency.key, now) as { message_id: bigint } | undefined;
      if (seen) {
        const first = this.#rows.byId(String(seen.message_id));
        if (first) return first;
      }
      this.#upsertKey.run(sender, idempotency.key, BigInt(message.id), idempotency.expiresAtMs);
    }
    // An id stored already (the log's store writer and the posting node both write it): keep it.
    if (!this.#rows.insert(message)) return this.#rows.byId(message.id);
    return undefined;
  }
}
