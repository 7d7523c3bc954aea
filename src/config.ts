/**
 * Parley's settings, read from the environment once, validated, typed. Nothing else in the
 * server reads process.env. A bad value stops start-up with a message naming the variable.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Unique per running process in a deployment: part of every message id. */
  readonly workerId: number;
  readonly tokenLifetimeSeconds: number;
  /** Ed25519 private key (PKCS#8 PEM) shared by all nodes; default: created in dataDir. */
  readonly tokenPrivateKeyPem: string | undefined;
  readonly heartbeatMs: number;
  readonly replayLimit: number;
  readonly streamQueueLimit: number;
  /** Bytes a browser stream (SSE, WebSocket) may have unsent before the edge waits for its client to read. */
  readonly streamSendBufferBytes: number;
  /** How long a browser stream may stay above streamSendBufferBytes before it is closed as too slow. */
  readonly slowClientMs: number;
  readonly store: "sqlite" | "cassandra";
  /** "cluster" (worker processes of one node, through the primary) is chosen for BUS=memory when WORKERS > 1. */
  readonly bus: "memory" | "kafka" | "cluster";
  /** Worker processes on the one port (WORKERS: a number, or "auto" = one per core, the default); 1 = no cluster. */
  readonly workers: number;
  /**
   * Several workers on one SQLite file with the cluster bus: the primary writes every message
   * (cluster/sequencer.ts) so ids, commits and live delivery share one order.
   */
  readonly sequencedAppends: boolean;
  readonly sqliteSynchronous: "FULL" | "NORMAL";
  /** Origins allowed to call from a browser (CORS, WebSocket Origin check); "*" allows any. */
  readonly corsOrigins: readonly string[];
  /** Proxies whose X-Forwarded-* headers are believed (exact peer addresses). */
  readonly trustedProxies: readonly string[];
  /** Token-bucket rate limits: sustained requests/second and burst, per user and per IP. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly signInLimit: { readonly perMinute: number };
  readonly maxBodyBytes: number;
  readonly cassandra: { readonly contactPoints: readonly string[]; readonly localDc: string; readonly keyspace: string; readonly replication: string; readonly consistency: string };
  readonly kafka: { readonly brokers: readonly string[]; readonly clientId: string; readonly topicPrefix: string };
  /** Where the built web page is served from (`npm run build:web`). */
  readonly webDir: string;
  /**
   * How long a stopping node drains before it closes its port: health reads NOT_SERVING, open
   * streams are ended with UNAVAILABLE and new ones refused, unary calls are still answered —
   * time for load balancers to notice. 0 closes at once.
   */
  readonly shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    // One line for one problem; one line each for several.
    super(problems.length === 1 ? `invalid configuration: ${problems[0]}` : `invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment; throws ConfigError listing every invalid variable at once. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(", ")}`);
      return fallback;
    }
    return raw as T;
  };
  const list = (name: string, fallback: string): string[] =>
    (env[name] ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);

  const dataDir = resolve(env.DATA_DIR || "./data");
  // One worker per core by default: one process cannot use a second core (see DESIGN.md).
  const workers = !env.WORKERS || env.WORKERS === "auto" ? availableParallelism() : workerCount(env.WORKERS, problems);
  const bus = oneOf("BUS", "memory", ["memory", "kafka"]);
  const store = oneOf("STORE", "sqlite", ["sqlite", "cassandra"]);
  const config: Config = {
    host: env.HOST || "0.0.0.0",
    port: int("PORT", 8080, 0, 65535),
    dataDir,
    logLevel: oneOf("LOG_LEVEL", "info", ["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    workerId: int("WORKER_ID", 0, 0, 1023),
    tokenLifetimeSeconds: int("TOKEN_TTL_SECONDS", 12 * 3600, 10, 30 * 24 * 3600),
    tokenPrivateKeyPem: env.TOKEN_PRIVATE_KEY || undefined,
    heartbeatMs: int("HEARTBEAT_SECONDS", 15, 1, 3600) * 1000,
    replayLimit: int("REPLAY_LIMIT", 1000, 1, 100_000),
    streamQueueLimit: int("STREAM_QUEUE_LIMIT", 1000, 1, 1_000_000),
    streamSendBufferBytes: int("STREAM_SEND_BUFFER_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024),
    slowClientMs: int("SLOW_CLIENT_SECONDS", 30, 1, 3600) * 1000,
    store,
    bus: bus === "memory" && workers > 1 ? "cluster" : bus,
    workers,
    sequencedAppends: workers > 1 && bus === "memory" && store === "sqlite",
    sqliteSynchronous: oneOf("SQLITE_SYNCHRONOUS", "FULL", ["FULL", "NORMAL"]),
    corsOrigins: list("CORS_ORIGINS", ""),
    trustedProxies: list("TRUSTED_PROXIES", ""),
    rateLimit: { perSecond: int("RATE_LIMIT_PER_SECOND", 50, 1, 1_000_000), burst: int("RATE_LIMIT_BURST", 100, 1, 1_000_000) },
    signInLimit: { perMinute: int("SIGNIN_LIMIT_PER_MINUTE", 10, 1, 100_000) },
    maxBodyBytes: int("MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    cassandra: {
      contactPoints: list("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042"),
      localDc: env.CASSANDRA_LOCAL_DC || "datacenter1",
      keyspace: env.CASSANDRA_KEYSPACE || "parley",
      replication: env.CASSANDRA_REPLICATION || "{'class': 'SimpleStrategy', 'replication_factor': 1}",
      consistency: oneOf("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM", ["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"]),
    },
    kafka: {
      brokers: list("KAFKA_BROKERS", "127.0.0.1:9092"),
      clientId: env.KAFKA_CLIENT_ID || "parley",
      topicPrefix: env.KAFKA_TOPIC_PREFIX || "parley",
    },
    webDir: resolve(env.WEB_DIR || "web/dist"),
    shutdownGraceMs: int("SHUTDOWN_GRACE_SECONDS", 5, 0, 300) * 1000,
  };
  // Workers use WORKER_ID + 0..WORKERS-1; a multi-process node's primary writes messages with WORKER_ID + WORKERS.
  const lastWorkerId = config.workerId + config.workers - (config.workers > 1 ? 0 : 1);
  if (lastWorkerId > 1023) problems.push(`WORKER_ID + WORKERS must not exceed ${config.workers > 1 ? 1023 : 1024} (ids ${config.workerId}..${lastWorkerId} are taken)`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** WORKERS as a number (1–64); a problem naming every accepted value otherwise. */
function workerCount(raw: string, problems: string[]): number {
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1 && value <= 64) return value;
  problems.push(`WORKERS=${JSON.stringify(raw)}: expected auto (one worker per core, the default) or an integer from 1 to 64`);
  return 1;
}
