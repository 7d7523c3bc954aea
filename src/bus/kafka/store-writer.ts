/**
 * The store writer: writes every message of the log to the store, so that nothing the log holds
 * is missing from history — also when the node that appended a message died before writing it,
 * or the store was down when it tried. One consumer group per store (every node of a deployment
 * joins it; Kafka gives each partition to one of them), offsets committed only after the
 * partition's writes succeeded, so a writer that dies is replaced by another that repeats what
 * was not committed. Writes are idempotent (the id is the record's, computed alike by every
 * reader), so repeating them — and the appending node's own write, which keeps "post, then list"
 * consistent — costs a write and changes nothing.
 *
 * While the store is down the writer retries the same records with backoff and commits nothing;
 * the log keeps them (retention: config.kafka log retention) until it catches up.
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { ChatMessage } from "../../domain/model.js";
import type { Logger } from "../../observability/logger.js";
import { type PartitionOffsets, partitionBounds } from "./lag-monitor.js";
import { LogReader } from "./log-reader.js";
import type { BusTopics } from "./topics.js";

/** Writes one message (idempotent by id; records its key unless the key already names one). */
export type WriteMessage = (message: ChatMessage) => Promise<void>;

/** Where the group's committed offset for a partition is (undefined: none committed yet). */
export type CommittedOffsets = (topic: string) => Promise<ReadonlyArray<{ partition: number; offset: string }>>;

const MAX_BACKOFF_MS = 5000;

export class StoreWriter {
  #reader: LogReader;
  #running = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly topics: BusTopics,
    private readonly offsets: PartitionOffsets,
    private readonly committed: CommittedOffsets,
    private readonly write: WriteMessage,
    private readonly logger: Logger,
    private readonly dedupeWindowMs: number,
  ) {
    this.#reader = new LogReader(topics, dedupeWindowMs);
  }

  /** Joins the writers' group; writing goes on in the background until stop(). */
  async start(): Promise<void> {
    this.#running = true;
    // Whatever this member held before a rebalance may have moved: start every partition afresh
    // from its committed offset (with the reader's bootstrap history).
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.#reader = new LogReader(this.topics, this.dedupeWindowMs);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics.logs], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.#consume(payload) });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.consumer.disconnect();
  }

  async #consume({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const reader = this.#reader;
    if (!reader.has(topic, partition)) {
      // First batch of this partition since the (re)join: position the reader, then fetch again
      // from its bootstrap point (seek makes kafkajs drop the rest of this batch).
      const fetchFrom = await this.#begin(reader, topic, partition);
      this.consumer.seek({ topic, partition, offset: fetchFrom.toString() });
      return;
    }
    // The reader moves on as it reads; should this batch end without its commit (a rebalance, a
    // failed heartbeat, a stop), forget the partition, so the refetch re-reads it from the
    // committed offset instead of skipping what the reader has already seen.
    let committed = false;
    try {
      const writes: ChatMessage[] = [];
      for (const record of batch.messages) {
        const result = reader.read(topic, partition, record);
        if (result?.kind === "sequenced" && result.sequenced.kind === "message") writes.push(result.sequenced.message);
      }
      for (let attempt = 0, delay = 100; ; attempt++, delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
        if (!this.#running || !isRunning() || isStale()) return;
        try {
          await Promise.all(writes.map((message) => this.write(message)));
          break;
        } catch (error) {
          if (attempt === 0) this.logger.warn({ err: error, topic, partition, messages: writes.length }, "store writer could not write; retrying");
          await new Promise((resolve) => setTimeout(resolve, delay));
          await heartbeat();
        }
      }
      const last = batch.messages.at(-1);
      if (last) {
        resolveOffset(last.offset);
        await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      }
      committed = true;
    } finally {
      if (!committed) reader.forget(topic, partition);
    }
    await heartbeat();
  }

  async #begin(reader: LogReader, topic: string, partition: number): Promise<bigint> {
    const committed = (await this.committed(topic)).find((p) => p.partition === partition);
    const bounds = (await partitionBounds(this.offsets, topic, Date.now() - this.dedupeWindowMs)).find((p) => p.partition === partition);
    if (!bounds) throw new Error(`no offsets for ${topic}/${partition}`);
    const from = committed && BigInt(committed.offset) >= 0n ? BigInt(committed.offset) : bounds.low;
    return reader.begin(topic, partition, from, { low: bounds.low, windowStart: bounds.windowStart < from ? bounds.windowStart : from });
  }
}
