/**
 * Which topic and key each bus event travels on, and creating those topics.
 *
 *   <prefix>.room-messages    key = room id        (all of one room's messages on one partition)
 *   <prefix>.direct-messages  key = recipient id   (all of one inbox's messages on one partition)
 *   <prefix>.control          key = token id       (token revocations)
 *
 * Kafka orders records per partition and the key picks the partition, so keying by channel gives
 * per-room and per-inbox order — the order the bus port promises — while spreading channels over
 * partitions.
 */
import type { Admin } from "kafkajs";
import type { BusEvent } from "../bus.js";

export interface BusTopics {
  readonly room: string;
  readonly direct: string;
  readonly control: string;
  /** Every topic a node consumes. */
  readonly all: readonly string[];
}

/** The topic names under one prefix (one Parley deployment per prefix). */
export function busTopics(prefix: string): BusTopics {
  const room = `${prefix}.room-messages`;
  const direct = `${prefix}.direct-messages`;
  const control = `${prefix}.control`;
  return { room, direct, control, all: [room, direct, control] };
}

/** The topic and partitioning key of an event: equal keys keep their publish order. */
export function routeEvent(topics: BusTopics, event: BusEvent): { topic: string; key: string } {
  if (event.type === "token_revoked") return { topic: topics.control, key: event.tokenId };
  const { channel } = event.message;
  return channel.kind === "room" ? { topic: topics.room, key: channel.id } : { topic: topics.direct, key: channel.id };
}

export interface TopicLayout {
  /** Partitions per topic when creating it (existing topics are left as they are). */
  readonly partitions: number;
  readonly replicationFactor: number;
}

/**
 * Creates whichever of the topics are missing and waits until they have leaders. Safe to run on
 * every node at once: a topic another node created first counts as created.
 */
export async function ensureTopics(admin: Admin, topics: BusTopics, layout: TopicLayout): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.all.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  // kafkajs treats "already exists" (another node won the race) as success.
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: layout.partitions,
      replicationFactor: layout.replicationFactor,
      // Live fan-out only: history is in the store, so a short retention is plenty.
      configEntries: [{ name: "retention.ms", value: String(24 * 3600 * 1000) }],
    })),
  });
}
