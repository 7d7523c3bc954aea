/**
 * The bus on Apache Kafka, for Parley running as several nodes behind a load balancer. Kafka is
 * also the message log: a message is appended first, named by its place in its channel's
 * partition (log-sequence.ts), handed to live subscribers by every node's reader, and written to
 * the store by the store writer (store-writer.ts) — see DESIGN.md, "One order per channel".
 *
 * Layout (text for DESIGN.md):
 *
 *   Topics (created at start if missing, with config.kafka.partitions partitions, default 8):
 *     <prefix>.room-log      key = room id       → one room's messages in one order
 *     <prefix>.direct-log    key = recipient id  → one inbox's messages in one order
 *     <prefix>.control       key = token id      → token revocations (sign-out)
 *                            key = user id       → read states (a user's marks, to their streams)
 *                            key = channel key   → typing (to the channel's streams)
 *                            key = "rooms"       → rooms created (to every room-list stream)
 *                            key = presence:origin → presence reports (one process's, in order)
 *   The two message topics use LogAppendTime and keep records for LOG_RETENTION (7 days).
 *   Consumer groups:
 *     - one per running node, `<clientId>-<hostname>-<pid>-<random>`, subscribed to every topic,
 *       so each node reads every record. It hands on records from the offsets that are newest
 *       when it starts (history and catch-up come from the store: clients resume with `since`),
 *       after reading back the history its reader needs (a block's floor, the de-duplication
 *       window). Offsets are never committed: a restarted node is a new group; a rejoin of a
 *       running node resumes exactly where it stood.
 *     - one per store, the store writers, `<prefix>.store-writer.<store>`, committing offsets.
 *   Producing: idempotent producer, acks = all, one request in flight, records of one tick
 *   batched into one request. A post is answered once this node has read its record back.
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
 * Guarantees (the bus port's, and the log's): one order per channel, the same on every node;
 * at most once per node — a node misses what was appended while it was down, which its clients
 * then read from the store with `since`.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import kafkajs, { type Admin, type Producer } from "kafkajs";
import type { Bus, BusEvent, BusListener, LogAppend, MessageDraft, MessageLog } from "../bus.js";
import { UnavailableError } from "../../domain/errors.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { BatchPublisher, type OutgoingRecord } from "./batch-publisher.js";
import { BusConsumer } from "./bus-consumer.js";
import { type LogRecord, encodeRecord } from "./event-codec.js";
import { pinoLogCreator } from "./kafka-log.js";
import { LagMonitor, adminOffsets } from "./lag-monitor.js";
import type { Sequenced } from "./log-sequence.js";
import { StoreWriter, type WriteMessage } from "./store-writer.js";
import { type BusTopics, type TopicLayout, busTopics, ensureTopics, recordRoute } from "./topics.js";
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
  /** How long the message topics keep records when created here (default 7 days). */
  readonly logRetentionMs?: number;
}

/** The store the log is written to (store-writer.ts); absent in tests of the bus alone. */
export interface LogStore {
  /** Names the store, so that every node writing to the same store joins one writers' group. */
  readonly identity: string;
  readonly write: WriteMessage;
}

/** Tuning, mostly for tests. */
export interface KafkaBusOptions {
  /** How often consumer lag is sampled into parley_bus_consumer_lag (default 5000). */
  readonly lagIntervalMs?: number;
  /** Longest publish() and append() wait before failing with UnavailableError (default 5000). */
  readonly publishTimeoutMs?: number;
  /** How long a retried key is recognised in the log itself (default 60000; see log-sequence.ts). */
  readonly dedupeWindowMs?: number;
  /** Longest start() waits to join the consumer group (default 30000). */
  readonly startTimeoutMs?: number;
}

interface Waiter {
  resolve(append: LogAppend): void;
  reject(error: unknown): void;
}

export class KafkaBus implements Bus {
  /** This node's consumer group (unique per instance). */
  readonly groupId: string;
  readonly log: MessageLog = { append: (draft) => this.#append(draft) };
  readonly #log: Logger;
  readonly #topics: BusTopics;
  readonly #layout: TopicLayout;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #publisher: BatchPublisher;
  readonly #consumer: BusConsumer;
  readonly #lag: LagMonitor;
  readonly #writer: StoreWriter | undefined;
  /** Appends waiting to read their record back, by nonce. */
  readonly #waiters = new Map<string, Waiter>();
  readonly #publishTimeoutMs: number;
  readonly #startTimeoutMs: number;
  #connected: Promise<void> | undefined;
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(config: KafkaBusConfig, logger: Logger, metrics: Metrics, options: KafkaBusOptions = {}, store?: LogStore) {
    this.#log = logger.child({ component: "kafka-bus" });
    this.#topics = busTopics(config.topicPrefix);
    this.#layout = {
      partitions: config.partitions ?? 8,
      replicationFactor: config.replicationFactor ?? 1,
      logRetentionMs: config.logRetentionMs ?? 7 * 24 * 3600 * 1000,
    };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    const dedupeWindowMs = options.dedupeWindowMs ?? 60_000;
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
    const offsets = adminOffsets(this.#admin);
    // Short sessions: after a broker restart a node's rejoin waits out its own old membership
    // (the coordinator forgot it), so this bounds how long live delivery stays away.
    const sessions = { sessionTimeout: 6000, rebalanceTimeout: 6000, heartbeatInterval: 1000 };
    const consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 1000, allowAutoTopicCreation: false, ...sessions });
    const onSequenced = (nonce: string, sequenced: Sequenced) => this.#settle(nonce, sequenced);
    this.#consumer = new BusConsumer(consumer, this.#topics, offsets, this.#log, onSequenced, dedupeWindowMs);
    this.#lag = new LagMonitor(this.#topics.all, (topic, partition) => this.#consumer.position(topic, partition), offsets.watermarks, metrics, this.#log, options.lagIntervalMs ?? 5000);
    if (store) {
      // One writers' group per store: every node writing to the same store shares the partitions.
      const groupId = `${config.topicPrefix}.store-writer.${store.identity}`;
      const writers = kafka.consumer({ groupId, allowAutoTopicCreation: false, ...sessions });
      const committed = (topic: string) => this.#admin.fetchOffsets({ groupId, topics: [topic] }).then((t) => t[0]?.partitions ?? []);
      this.#writer = new StoreWriter(writers, this.#topics, offsets, committed, store.write, this.#log.child({ component: "store-writer" }), dedupeWindowMs);
    }
  }

  /** Appends a message record and waits for this node's reader to name it (see MessageLog). */
  #append(draft: MessageDraft): Promise<LogAppend> {
    if (this.#closing) return Promise.reject(new UnavailableError("the message bus is shutting down"));
    const nonce = randomBytes(12).toString("base64url");
    return new Promise<LogAppend>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(nonce);
        reject(new UnavailableError(`the message log (Kafka) did not take the message within ${this.#publishTimeoutMs} ms; retry with the same client_message_id`));
      }, this.#publishTimeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(nonce);
        done();
      };
      this.#waiters.set(nonce, {
        resolve: (append) => settle(() => resolve(append)),
        reject: (error) => settle(() => reject(error)),
      });
      this.#publishRecord({ type: "message", draft, nonce }).catch((error: unknown) => this.#waiters.get(nonce)?.reject(error));
    });
  }

  #settle(nonce: string, sequenced: Sequenced): void {
    const waiter = this.#waiters.get(nonce);
    if (!waiter) return;
    waiter.resolve(sequenced.kind === "message" ? { message: sequenced.message, created: true } : { message: sequenced.original, created: false });
  }

  #publishRecord(record: LogRecord): Promise<void> {
    return this.#publisher.publish({ ...recordRoute(this.#topics, record), value: encodeRecord(record) });
  }

  /**
   * Resolves once Kafka acknowledged the event (all in-sync replicas); UnavailableError if not.
   * A message event is appended as a new message (the log names it: its id and time are not
   * kept); services append through `log`, which answers with the name.
   */
  publish(event: BusEvent): Promise<void> {
    if (this.#closing) return Promise.reject(new UnavailableError("the message bus is shutting down"));
    if (event.type !== "message") return this.#publishRecord(event);
    const { id: _id, createdAtMs: _at, ...draft } = event.message;
    return this.#publishRecord({ type: "message", draft, nonce: randomBytes(12).toString("base64url") });
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
      await this.#writer?.start();
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
    const writerStopped = this.#writer?.stop();
    // Queued publishes get until their own deadline; then the producer is closed under them.
    await withTimeout(this.#publisher.idle(), this.#publishTimeoutMs, "flushing publishes").catch(() => undefined);
    await Promise.allSettled([stopped, writerStopped, this.#producer.disconnect()]);
    for (const waiter of this.#waiters.values()) waiter.reject(new UnavailableError("the message bus is shutting down"));
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
