/** Chooses the store and bus adapters named by the config (STORE, BUS). */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Config } from "./config.js";
import type { Logger } from "./observability/logger.js";
import type { Metrics } from "./observability/metrics.js";
import type { Store } from "./store/store.js";
import type { Bus } from "./bus/bus.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import { MemoryBus } from "./bus/memory/memory-bus.js";
import { reportLoosened } from "./private-files.js";
import { idempotencyKeyOf } from "./services/messages.js";
import { localBuckets, type BucketsFactory } from "./edges/admission/rate-limit.js";

export interface Adapters {
  readonly store: Store;
  readonly bus: Bus;
  /** Where the rate limits' buckets are kept: here, or (a worker of several) leased from the primary's. */
  readonly rateBuckets: BucketsFactory;
}

export async function createAdapters(config: Config, logger: Logger, metrics: Metrics): Promise<Adapters> {
  // A worker's one IPC channel to its primary, batched; the sequenced store, the cluster bus and the rate limits share it (and its order).
  const primary = config.workers > 1 ? (await import("./cluster/ipc.js")).primaryPort() : undefined;
  const rateBuckets = primary ? (await import("./cluster/node-buckets.js")).leasedBuckets(primary, config.workers) : localBuckets;
  let store: Store;
  if (config.store === "cassandra") {
    const { CassandraStore } = await import("./store/cassandra/cassandra-store.js");
    store = await CassandraStore.connect(config.cassandra, logger);
  } else {
    store = openSqlite(config, logger);
    if (config.sequencedAppends) {
      const { sequencedStore } = await import("./cluster/sequenced-appends.js");
      store = sequencedStore(store, primary);
    }
  }
  let bus: Bus;
  if (config.bus === "kafka") {
    const { KafkaBus } = await import("./bus/kafka/kafka-bus.js");
    // Kafka is the message log; the store is written from it by one writers' group per store.
    const identity =
      config.store === "cassandra"
        ? `cassandra.${config.cassandra.keyspace}`
        : `sqlite.${hostname().replace(/[^A-Za-z0-9-]/g, "_")}.${createHash("sha256").update(config.dataDir).digest("hex").slice(0, 12)}`;
    const logStore = store;
    bus = new KafkaBus(config.kafka, logger, metrics, {}, {
      identity,
      write: (message) => logStore.recordMessage(message, idempotencyKeyOf(message)),
    });
  } else if (config.bus === "cluster") {
    const { ClusterBus } = await import("./cluster/cluster-bus.js");
    bus = new ClusterBus(primary, config.sequencedAppends);
  } else {
    bus = new MemoryBus();
  }
  return { store, bus, rateBuckets };
}

/** The node's SQLite file (the primary of a sequenced cluster opens it too), owner-only whatever the umask. */
export function openSqlite(config: Config, logger: Logger): SqliteStore {
  return new SqliteStore({
    file: join(config.dataDir, "parley.sqlite"),
    synchronous: config.sqliteSynchronous,
    onLoosened: (found) => reportLoosened(logger, found),
  });
}
