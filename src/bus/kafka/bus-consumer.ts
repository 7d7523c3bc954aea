/**
 * The consuming half of the Kafka bus: one node's own consumer group, assigned every partition of
 * every bus topic, handing decoded events to the listener in partition order.
 *
 * Where it reads from: the high watermarks recorded *before* joining, then, after every (re)join,
 * exactly where this node stood — so nothing published after start() began is skipped (kafkajs's
 * own "latest" would be resolved only at the first fetch, after the join) and a rejoin neither
 * skips nor repeats. Offsets are never committed: the group lives as long as the node.
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import type { BusListener } from "../bus.js";
import type { Logger } from "../../observability/logger.js";
import { decodeEvent } from "./event-codec.js";
import type { HighWatermarks, Positions } from "./lag-monitor.js";
import { withTimeout } from "./with-timeout.js";

export class BusConsumer {
  #listener: BusListener | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly topics: readonly string[],
    private readonly positions: Positions,
    private readonly watermarks: HighWatermarks,
    private readonly logger: Logger,
  ) {}

  /**
   * Records the newest offsets, joins the group and resolves once every partition is assigned and
   * positioned at them; from then on every event reaches `listener`, once, in partition order.
   */
  async start(listener: BusListener, timeoutMs: number): Promise<void> {
    this.#listener = listener;
    for (const topic of this.topics) {
      for (const { partition, high } of await this.watermarks(topic)) this.positions.set(topic, partition, BigInt(high));
    }
    const joined = new Promise<void>((resolve) => {
      // kafkajs emits GROUP_JOIN synchronously after each (re)join, before the next fetch, so
      // the seeks below decide where that fetch starts.
      this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const next = this.positions.get(topic, partition);
            if (next !== undefined) this.consumer.seek({ topic, partition, offset: next.toString() });
          }
        }
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: false });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.#consume(payload) });
    await withTimeout(joined, timeoutMs, "joining the consumer group");
  }

  /** Stops delivery at once, then leaves the group. */
  async stop(): Promise<void> {
    this.#listener = undefined;
    await this.consumer.disconnect();
  }

  async #consume({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const record of batch.messages) {
      if (!isRunning() || isStale()) return;
      this.#deliver(batch.topic, batch.partition, record);
      resolveOffset(record.offset);
      this.positions.advance(batch.topic, batch.partition, record.offset);
    }
    await heartbeat();
  }

  #deliver(topic: string, partition: number, record: KafkaMessage): void {
    const listener = this.#listener;
    if (!listener) return;
    const event = decodeEvent(record.value);
    if (!event) {
      this.logger.warn({ topic, partition, offset: record.offset }, "skipped a bus record this version cannot read");
      return;
    }
    try {
      listener(event);
    } catch (error) {
      this.logger.error({ err: error, topic, partition, offset: record.offset }, "bus listener threw");
    }
  }
}
