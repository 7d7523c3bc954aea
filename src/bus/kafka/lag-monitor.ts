/**
 * Where this node's consumer stands in each partition, and how far behind the newest record that
 * is: every interval the monitor reads the high watermarks and sets
 * `parley_bus_consumer_lag{topic}` to the sum over the topic's partitions of (high − position).
 * A lag that keeps growing means this node cannot keep up with the whole deployment's traffic
 * (every node reads everything: see kafka-bus.ts).
 */
import type { Admin } from "kafkajs";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";

/** The next offset this node will read in (topic, partition); undefined before it is positioned. */
export type Position = (topic: string, partition: number) => bigint | undefined;

/** Reads the newest (high) and oldest (low) offsets of a topic: one entry per partition. */
export type HighWatermarks = (topic: string) => Promise<ReadonlyArray<{ partition: number; high: string; low: string }>>;

/** What a reader needs to know of a topic's partitions before it starts. */
export interface PartitionOffsets {
  readonly watermarks: HighWatermarks;
  /** Per partition, the first offset appended at or after `timeMs` (the high watermark if none). */
  atTime(topic: string, timeMs: number): Promise<ReadonlyArray<{ partition: number; offset: string }>>;
}

/** A partition's bounds for a LogReader bootstrap: newest, oldest, and first offset since `sinceMs`. */
export async function partitionBounds(
  offsets: PartitionOffsets,
  topic: string,
  sinceMs: number,
): Promise<Array<{ partition: number; high: bigint; low: bigint; windowStart: bigint }>> {
  const marks = await offsets.watermarks(topic);
  const since = new Map((await offsets.atTime(topic, sinceMs)).map((p) => [p.partition, BigInt(p.offset)]));
  return marks.map(({ partition, high, low }) => {
    const h = BigInt(high);
    const w = since.get(partition);
    // Kafka answers -1 when no record is that recent.
    return { partition, high: h, low: BigInt(low), windowStart: w === undefined || w < 0n || w > h ? h : w };
  });
}

/** PartitionOffsets from the Kafka admin client (retrying a topic whose leaders are being elected). */
export function adminOffsets(admin: Admin, patienceMs = 15_000): PartitionOffsets {
  return {
    watermarks: adminWatermarks(admin, patienceMs),
    atTime: (topic, timeMs) => admin.fetchTopicOffsetsByTimestamp(topic, timeMs),
  };
}

/**
 * The high watermarks as the Kafka admin client reports them. Retriable broker errors (a topic
 * created a moment ago whose partitions are still electing leaders: NOT_LEADER_OR_FOLLOWER,
 * LEADER_NOT_AVAILABLE) are retried with fresh metadata for up to `patienceMs`.
 */
export function adminWatermarks(admin: Admin, patienceMs = 15_000): HighWatermarks {
  return async (topic) => {
    const deadline = Date.now() + patienceMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await admin.fetchTopicOffsets(topic);
      } catch (error) {
        if (!isRetriable(error) || Date.now() + delay > deadline) throw error;
        await new Promise((r) => setTimeout(r, delay));
        await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      }
    }
  };
}

function isRetriable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** Sum of (high − position) over a topic's partitions; partitions not yet positioned count 0. */
export async function topicLag(topic: string, position: Position, watermarks: HighWatermarks): Promise<number> {
  let lag = 0n;
  for (const { partition, high } of await watermarks(topic)) {
    const next = position(topic, partition);
    if (next === undefined) continue;
    const behind = BigInt(high) - next;
    if (behind > 0n) lag += behind;
  }
  return Number(lag);
}

export class LagMonitor {
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(
    private readonly topics: readonly string[],
    private readonly position: Position,
    private readonly watermarks: HighWatermarks,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Starts sampling every interval (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sample(), this.intervalMs);
    this.#timer.unref();
  }

  /** Samples once now; failures are logged once per outage, never thrown. */
  async sample(): Promise<void> {
    try {
      for (const topic of this.topics) {
        this.metrics.busLag.set({ topic }, await topicLag(topic, this.position, this.watermarks));
      }
      if (this.#failing) this.logger.info("bus lag sampling recovered");
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.logger.warn({ err: error }, "bus lag sampling failed");
      this.#failing = true;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
