/**
 * Which topic and key each record travels on, and creating those topics.
 *
 *   <prefix>.room-log      key = room id        (all of one room's messages on one partition)
 *   <prefix>.direct-log    key = recipient id   (all of one inbox's messages on one partition)
 *   <prefix>.control       key = token id       (token revocations)
 *                          key = user id        (read states: one user's marks in one order)
 *                          key = channel key    (typing: one channel's typing in one order)
 *                          key = "rooms"        (rooms created: one order for the room list; rooms are rare)
 *                          key = presence:origin (presence: one process's reports in one order)
 *
 * Kafka orders records per partition and the key picks the partition, so keying by channel gives
 * each room and inbox one order, while spreading channels over partitions. The two message
 * topics are the log messages are sequenced by (log-sequence.ts): they keep LogAppendTime (the
 * broker's clock names the ids) and are retained long enough for the store writer to catch up
 * after a long store outage.
 */
import type { Admin } from "kafkajs";
import kafkajs from "kafkajs";
import { type Channel, channelKey } from "../../domain/model.js";
import type { LogRecord } from "./event-codec.js";
import { SLOTS } from "./log-sequence.js";

const { ConfigResourceTypes } = kafkajs;

/** Most partitions a message topic may have: the two topics share the id's 1024 slots. */
export const MAX_LOG_PARTITIONS = SLOTS / 2;

export interface BusTopics {
  readonly room: string;
  readonly direct: string;
  readonly control: string;
  /** The message topics, in slot order (slot = index × MAX_LOG_PARTITIONS + partition). */
  readonly logs: readonly string[];
  /** Every topic a node consumes. */
  readonly all: readonly string[];
}

/** The topic names under one prefix (one Parley deployment per prefix). */
export function busTopics(prefix: string): BusTopics {
  const room = `${prefix}.room-log`;
  const direct = `${prefix}.direct-log`;
  const control = `${prefix}.control`;
  return { room, direct, control, logs: [room, direct], all: [room, direct, control] };
}

/** The topic and partitioning key of a channel's messages: one channel, one partition. */
export function channelRoute(topics: BusTopics, channel: Channel): { topic: string; key: string } {
  return channel.kind === "room" ? { topic: topics.room, key: channel.id } : { topic: topics.direct, key: channel.id };
}

/** The control-topic key of every room_created record: one partition, so one order of new rooms. */
export const ROOMS_KEY = "rooms";

/** The topic and partitioning key of any record: a message by its channel, the others on the control topic. */
export function recordRoute(topics: BusTopics, record: LogRecord): { topic: string; key: string } {
  switch (record.type) {
    case "message":
      return channelRoute(topics, record.draft.channel);
    case "token_revoked":
      return { topic: topics.control, key: record.tokenId };
    case "read":
      return { topic: topics.control, key: record.userId };
    case "typing":
      return { topic: topics.control, key: channelKey(record.typing.channel) };
    case "room_created":
      return { topic: topics.control, key: ROOMS_KEY };
    case "presence":
      return { topic: topics.control, key: `presence:${record.report.origin}` };
  }
}

/** The id slot of a message topic's partition; undefined for the control topic. */
export function partitionSlot(topics: BusTopics, topic: string, partition: number): number | undefined {
  const index = topics.logs.indexOf(topic);
  return index < 0 ? undefined : index * MAX_LOG_PARTITIONS + partition;
}

export interface TopicLayout {
  /** Partitions per topic when creating it (existing topics are left as they are). */
  readonly partitions: number;
  readonly replicationFactor: number;
  /** How long the message topics keep records (the store writer's longest outage). */
  readonly logRetentionMs: number;
}

/**
 * Creates whichever of the topics are missing and waits until they have leaders, then checks
 * that the message topics can sequence (LogAppendTime, at most MAX_LOG_PARTITIONS partitions):
 * a topic created by hand without them would give nodes ids from their own clocks. Safe to run
 * on every node at once: a topic another node created first counts as created.
 */
export async function ensureTopics(admin: Admin, topics: BusTopics, layout: TopicLayout): Promise<void> {
  if (layout.partitions > MAX_LOG_PARTITIONS) throw new Error(`a message topic may have at most ${MAX_LOG_PARTITIONS} partitions`);
  const existing = new Set(await admin.listTopics());
  const missing = topics.all.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    // kafkajs treats "already exists" (another node won the race) as success.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: layout.partitions,
        replicationFactor: layout.replicationFactor,
        configEntries: topics.logs.includes(topic)
          ? [
              { name: "message.timestamp.type", value: "LogAppendTime" },
              { name: "retention.ms", value: String(layout.logRetentionMs) },
            ]
          : [{ name: "retention.ms", value: String(24 * 3600 * 1000) }],
      })),
    });
  }
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.logs.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["message.timestamp.type"] })),
  });
  for (const resource of described.resources) {
    const type = resource.configEntries.find((e) => e.configName === "message.timestamp.type")?.configValue;
    if (type !== "LogAppendTime") {
      throw new Error(`Kafka topic ${resource.resourceName} has message.timestamp.type=${type}; Parley needs LogAppendTime (set it, or let Parley create the topic)`);
    }
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics.logs] });
  for (const topic of metadata.topics) {
    if (topic.partitions.length > MAX_LOG_PARTITIONS) throw new Error(`Kafka topic ${topic.name} has ${topic.partitions.length} partitions; at most ${MAX_LOG_PARTITIONS}`);
  }
}
