/**
 * The consuming half of the Kafka bus: one node's own consumer group, assigned every partition of
 * every bus topic, reading the log with a LogReader (so its ids and duplicate verdicts are every
 * reader's) and handing each message to the listener in partition order, and each sequenced
 * record to `onSequenced` (the node that appended it is waiting for its id).
 *
 * Where it reads from: the high watermarks recorded *before* joining are where hand-on starts —
 * nothing published after start() began is skipped (kafkajs's own "latest" would be resolved only
 * at the first fetch, after the join) — with the reader's bootstrap history fetched before them.
 * After every (re)join it resumes exactly where it stood, so a rejoin neither skips nor repeats.
 * Offsets are never committed: the group lives as long as the node.
 *
 * A burst (the backlog after an outage) is handed on in slices with a macrotask between them, so
 * the edges drain each slice into their sockets before the next one fills the streams' bounded
 * buffers: a healthy stream keeps up with any backlog instead of being ended as "too far behind".
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { BusListener } from "../bus.js";
import type { Logger } from "../../observability/logger.js";
import type { Sequenced } from "./log-sequence.js";
import { LogReader, type ReadResult } from "./log-reader.js";
import { type PartitionOffsets, partitionBounds } from "./lag-monitor.js";
import type { BusTopics } from "./topics.js";
import { withTimeout } from "./with-timeout.js";

/** Messages handed on between two yields to the event loop. */
const SLICE = 256;

/** Called for every sequenced record (also for duplicates), with the nonce its appender gave it. */
export type SequencedHook = (nonce: string, sequenced: Sequenced) => void;

export class BusConsumer {
  #listener: BusListener | undefined;
  readonly #reader: LogReader;

  constructor(
    private readonly consumer: Consumer,
    private readonly topics: BusTopics,
    private readonly offsets: PartitionOffsets,
    private readonly logger: Logger,
    private readonly onSequenced: SequencedHook,
    private readonly dedupeWindowMs: number,
  ) {
    this.#reader = new LogReader(topics, dedupeWindowMs);
  }

  /**
   * Records the newest offsets, joins the group and resolves once every partition is assigned and
   * positioned; from then on every record from those offsets on is handed on, once, in order.
   */
  async start(listener: BusListener, timeoutMs: number): Promise<void> {
    this.#listener = listener;
    for (const topic of this.topics.all) {
      for (const { partition, high, low, windowStart } of await partitionBounds(this.offsets, topic, Date.now() - this.dedupeWindowMs)) {
        this.#reader.begin(topic, partition, high, { low, windowStart });
      }
    }
    const joined = new Promise<void>((resolve) => {
      // kafkajs emits GROUP_JOIN synchronously after each (re)join, before the next fetch, so
      // the seeks below decide where that fetch starts.
      this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const next = this.#reader.next(topic, partition);
            if (next !== undefined) this.consumer.seek({ topic, partition, offset: next.toString() });
          }
        }
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics.all], fromBeginning: false });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.#consume(payload) });
    await withTimeout(joined, timeoutMs, "joining the consumer group");
  }

  /** The next offset this consumer reads in (topic, partition) (the lag monitor's position). */
  position(topic: string, partition: number): bigint | undefined {
    return this.#reader.next(topic, partition);
  }

  /** Stops delivery at once, then leaves the group. */
  async stop(): Promise<void> {
    this.#listener = undefined;
    await this.consumer.disconnect();
  }

  async #consume({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    let handed = 0;
    for (const record of batch.messages) {
      if (!isRunning() || isStale()) return;
      const result = this.#reader.read(topic, partition, record);
      resolveOffset(record.offset);
      if (!result) continue;
      this.#handOn(result, topic, partition, record.offset);
      if (++handed % SLICE === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await heartbeat();
      }
    }
    await heartbeat();
  }

  #handOn(result: ReadResult, topic: string, partition: number, offset: string): void {
    if (result.kind === "unreadable") {
      this.logger.warn({ topic, partition, offset }, "skipped a bus record this version cannot read");
      return;
    }
    try {
      if (result.kind === "revocation") {
        this.#listener?.({ type: "token_revoked", tokenId: result.tokenId, expiresAtMs: result.expiresAtMs });
        return;
      }
      if (result.kind === "read") {
        this.#listener?.({ type: "read", userId: result.userId, state: result.state });
        return;
      }
      if (result.kind === "typing") {
        this.#listener?.({ type: "typing", typing: result.typing });
        return;
      }
      if (result.kind === "room_created") {
        this.#listener?.({ type: "room_created", room: result.room });
        return;
      }
      if (result.kind === "presence") {
        this.#listener?.({ type: "presence", report: result.report });
        return;
      }
      this.onSequenced(result.nonce, result.sequenced);
      if (result.sequenced.kind === "message") this.#listener?.({ type: "message", message: result.sequenced.message });
    } catch (error) {
      this.logger.error({ err: error, topic, partition, offset }, "bus listener threw");
    }
  }
}
