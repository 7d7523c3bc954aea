/**
 * The bus on Apache Kafka, for Parley running as several nodes behind a load balancer.
 *
 * Layout (text for DESIGN.md):
 *
 *   Topics (created at start if missing, with config.kafka.partitions partitions, default 8):
 *     <prefix>.room-messages    key = room id       → one room's messages stay in order
 *     <prefix>.direct-messages  key = recipient id  → one inbox's messages stay in order
 *     <prefix>.control          key = token id      → token revocations (sign-out)
 *   Consumer groups: one per running node, `<clientId>-<hostname>-<pid>-<random>`, subscribed to
 *   every topic, so each node is assigned every partition and reads every event. A node only
 *   serves its live subscribers, so it starts at the offsets that are newest when it starts (no
 *   replay from Kafka); history and catch-up come from the store (clients resume with `since`).
 *   Offsets are never committed: a restarted node is a new group and starts at "now"; a rejoin
 *   of a running node resumes exactly where it stood.
 *   Producing: after the message is stored; idempotent producer, acks = all, one request in
 *   flight, records of one tick batched into one request; publish() resolves on the ack.
 *
 *   Cost as nodes grow: every node reads every message, so Kafka serves N× the write traffic and
 *   each node decodes the whole deployment's traffic even for rooms nobody on it watches. That is
 *   fine to tens of nodes (a chat message is ~200 bytes; 10k msg/s × 20 nodes ≈ 40 MB/s of
 *   fetches). Beyond that, route subscribers by partition (a node consumes only the partitions
 *   its subscribers' channels hash to, with the load balancer or a redirect sending each channel's
 *   subscribers to the nodes that own it) or add a second tier of fan-out nodes.
 *   Groups of stopped nodes: close() deletes its group; a crashed node's group is empty and has no
 *   committed offsets, so the coordinator's periodic clean-up removes it (checked every
 *   offsets.retention.check.interval.ms, 10 min by default) — nothing accumulates.
 *
 * Guarantees (the bus port's): per-channel order; at most once per node — a node misses what was
 * published while it was down, which its clients then read from the store with `since`.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import kafkajs, { type Admin, type Producer } from "kafkajs";
import type { Bus, BusEvent, BusListener } from "../bus.js";
import { UnavailableError } from "../../domain/errors.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { BatchPublisher, type OutgoingRecord } from "./batch-publisher.js";
import { BusConsumer } from "./bus-consumer.js";
import { encodeEvent } from "./event-codec.js";
import { pinoLogCreator } from "./kafka-log.js";
import { LagMonitor, Positions, adminWatermarks } from "./lag-monitor.js";
import { type BusTopics, busTopics, ensureTopics, routeEvent } from "./topics.js";
import { withTimeout } from "./with-timeout.js";

const { Kafka, Partitioners, logLevel } = kafkajs;

/** config.kafka, plus the topic layout used when this node has to create the topics. */
export interface KafkaBusConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topicPrefix: string;
  /** Partitions of each topic when created here (default 8). */
  readonly partitions?: number;
  /** Replicas of each topic when created here (default 1; use 3 in production). */
  readonly replicationFactor?: number;
}

/** Tuning, mostly for tests. */
export interface KafkaBusOptions {
  /** How often consumer lag is sampled into parley_bus_consumer_lag (default 5000). */
  readonly lagIntervalMs?: number;
  /** Longest publish() waits for Kafka's ack before failing with UnavailableError (default 10000). */
  readonly publishTimeoutMs?: number;
  /** Longest start() waits to join the consumer group (default 30000). */
  readonly startTimeoutMs?: number;
}

export class KafkaBus implements Bus {
  /** This node's consumer group (unique per instance). */
  readonly groupId: string;
  readonly #log: Logger;
  readonly #topics: BusTopics;
  readonly #layout: { partitions: number; replicationFactor: number };
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #publisher: BatchPublisher;
  readonly #consumer: BusConsumer;
  readonly #lag: LagMonitor;
  readonly #publishTimeoutMs: number;
  readonly #startTimeoutMs: number;
  #connected: Promise<void> | undefined;
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(config: KafkaBusConfig, logger: Logger, metrics: Metrics, options: KafkaBusOptions = {}) {
    this.#log = logger.child({ component: "kafka-bus" });
    this.#topics = busTopics(config.topicPrefix);
    this.#layout = { partitions: config.partitions ?? 8, replicationFactor: config.replicationFactor ?? 1 };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.groupId = `${config.clientId}-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    const kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      logLevel: logLevel.WARN,
      logCreator: pinoLogCreator(logger),
    });
    this.#admin = kafka.admin();
    this.#producer = kafka.producer({
      // Idempotence needs acks = -1, unbounded retries (kafkajs's default for it: a bounded retry
      // can desynchronise sequence numbers for good) and one request in flight to keep order.
      // Callers still get an answer in time: BatchPublisher's deadline.
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2 of the key, as Java clients
      retry: { initialRetryTime: 100, maxRetryTime: 5000 },
    });
    this.#publisher = new BatchPublisher(
      (records) => this.#send(records),
      { maxBatch: 1000, maxQueued: 50_000, timeoutMs: this.#publishTimeoutMs },
      {
        overflow: () => new UnavailableError("the message bus (Kafka) is not keeping up; try again shortly"),
        timeout: () => new UnavailableError(`the message bus (Kafka) did not acknowledge the event within ${this.#publishTimeoutMs} ms`),
      },
    );
    const positions = new Positions();
    const watermarks = adminWatermarks(this.#admin);
    const consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 1000, allowAutoTopicCreation: false });
    this.#consumer = new BusConsumer(consumer, this.#topics.all, positions, watermarks, this.#log);
    this.#lag = new LagMonitor(this.#topics.all, positions, watermarks, metrics, this.#log, options.lagIntervalMs ?? 5000);
  }

  /** Resolves once Kafka acknowledged the event (all in-sync replicas); UnavailableError if not. */
  publish(event: BusEvent): Promise<void> {
    if (this.#closing) return Promise.reject(new UnavailableError("the message bus is shutting down"));
    const { topic, key } = routeEvent(this.#topics, event);
    return this.#publisher.publish({ topic, key, value: encodeEvent(event) });
  }

  /**
   * Creates missing topics, joins this node's consumer group and resolves once every partition is
   * assigned and positioned at the offsets that were newest when start() began: every event
   * published after start() resolved — and any published while it ran — reaches the listener.
   */
  async start(listener: BusListener): Promise<void> {
    if (this.#started) throw new Error("KafkaBus.start() may be called only once");
    this.#started = true;
    try {
      await this.#connect();
      await this.#consumer.start(listener, this.#startTimeoutMs);
    } catch (error) {
      this.#log.error({ err: error, groupId: this.groupId }, "kafka bus failed to start");
      await this.#consumer.stop().catch(() => undefined);
      throw new UnavailableError("the message bus (Kafka) is unavailable", { cause: error });
    }
    void this.#lag.sample();
    this.#lag.start();
    this.#log.info({ groupId: this.groupId, topics: this.#topics.all }, "kafka bus started");
  }

  /** Stops delivery at once, waits for queued publishes, leaves and deletes the consumer group. */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    this.#lag.stop();
    const stopped = this.#consumer.stop();
    // Queued publishes get until their own deadline; then the producer is closed under them.
    await withTimeout(this.#publisher.idle(), this.#publishTimeoutMs, "flushing publishes").catch(() => undefined);
    await Promise.allSettled([stopped, this.#producer.disconnect()]);
    if (this.#started && this.#connected) {
      // Best effort: the group would otherwise linger (empty, no offsets) until the broker drops it.
      await withTimeout(this.#admin.deleteGroups([this.groupId]), 3000, "deleting the consumer group").catch((error: unknown) =>
        this.#log.debug({ err: error, groupId: this.groupId }, "could not delete consumer group"),
      );
    }
    await this.#admin.disconnect().catch(() => undefined);
  }

  /** Connects admin and producer and creates missing topics, once; retried after a failure. */
  #connect(): Promise<void> {
    this.#connected ??= (async () => {
      await this.#admin.connect();
      await ensureTopics(this.#admin, this.#topics, this.#layout);
      await this.#producer.connect();
    })().catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    return this.#connected;
  }

  async #send(records: readonly OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
    for (const { topic, key, value } of records) {
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      messages.push({ key, value });
    }
    try {
      await this.#connect();
      await this.#producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (error) {
      this.#log.warn({ err: error, records: records.length }, "kafka publish failed");
      throw new UnavailableError("the message bus (Kafka) did not accept the event; try again shortly", { cause: error });
    }
  }
}
