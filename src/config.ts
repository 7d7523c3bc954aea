/**
 * Parley's settings, read from the environment once, validated, typed. Nothing else in the
 * server reads process.env. A bad value stops start-up with a message naming the variable.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";

/** A token-bucket rate: sustained per second, and the burst a full bucket allows. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

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
   * (cluster/sequenced-appends.ts) so ids, commits and live delivery share one order.
   */
  readonly sequencedAppends: boolean;
  readonly sqliteSynchronous: "FULL" | "NORMAL";
  /** Origins allowed to call from a browser (CORS, WebSocket Origin check); "*" allows any. */
  readonly corsOrigins: readonly string[];
  /**
   * Origins this server's own page is served at by name (PUBLIC_ORIGINS, normalised
   * "scheme://host[:port]"); besides these, a request's own origin counts only when it is
   * localhost or an IP address, never by a Host header naming a domain (see edges/http/cors.ts).
   */
  readonly publicOrigins: readonly string[];
  /** A separate listener for GET /metrics (METRICS_PORT); undefined: /metrics is served on the public port. */
  readonly metrics: { readonly port: number; readonly host: string } | undefined;
  /** Proxies whose X-Forwarded-* headers are believed (exact peer addresses). */
  readonly trustedProxies: readonly string[];
  /**
   * Token-bucket rate limits of one process (sustained per second, burst): `user` counts every
   * signed-in call, `address` calls without valid credentials, `flood` every call of an address
   * (a ceiling far above an office's traffic), `passwordAddress` sign-ins and sign-ups of an
   * address and `signInUsername` sign-in attempts per username (both already divided by `workers`:
   * node-wide bounds);
   * `passwordCallsPerAddress` sign-ins and sign-ups of one address in progress at once.
   */
  readonly rateLimit: {
    readonly user: Rate;
    readonly address: Rate;
    readonly flood: Rate;
    readonly passwordAddress: Rate;
    readonly signInUsername: Rate;
    readonly passwordCallsPerAddress: number;
  };
  /** Password hashes (scrypt) run at once by this process, and how many may wait; beyond: 429. */
  readonly passwordHashing: { readonly concurrency: number; readonly queue: number };
  readonly maxBodyBytes: number;
  /** Timeouts and caps of client connections (edges/listener.ts; DESIGN.md, Hardening). */
  readonly connections: ConnectionLimits;
  /** Most realtime streams one user may hold open on this process (SSE, WebSocket subscriptions, RPC streams). */
  readonly maxStreamsPerUser: number;
  /**
   * How often this process asks the store for tokens revoked on any node, to end their open
   * streams even when the bus did not carry the revocation (auth/revocation-sweep.ts).
   */
  readonly revocationSweepMs: number;
  readonly cassandra: {
    readonly contactPoints: readonly string[];
    readonly localDc: string;
    readonly keyspace: string;
    readonly replication: string;
    readonly consistency: string;
    /** How long one statement may wait for Cassandra before the call answers UNAVAILABLE (CASSANDRA_REQUEST_TIMEOUT_MS). */
    readonly requestTimeoutMs: number;
  };
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

/**
 * How long a connection may take for each step, and how many one address may hold. A connection
 * that misses a deadline is closed; long-lived streams are never cut by these (they are bounded by
 * their heartbeats and the send buffer instead).
 */
export interface ConnectionLimits {
  /** From connect to the first bytes (HTTP/2: from the preface to the client's first SETTINGS). */
  readonly firstBytesMs: number;
  /** From a request's first byte to the end of its headers (HTTP/1.1; slowloris). */
  readonly headersMs: number;
  /** From a request's first byte to the end of its body (HTTP/1.1 and HTTP/2). */
  readonly requestMs: number;
  /** An HTTP/1.1 connection idle between requests. */
  readonly keepAliveMs: number;
  /** An HTTP/2 session with no open stream (closed with GOAWAY). */
  readonly h2IdleMs: number;
  /** Open connections per TCP peer address (IPv6: per /64) on this process; trusted proxies are exempt. */
  readonly maxPerAddress: number;
}

type IntReader = (name: string, fallback: number, min: number, max: number) => number;

/**
 * The rate limits (see Config.rateLimit). RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST set the user
 * and address limits together; USER_… and ADDRESS_… override one of them. Each is a bound for
 * the whole node, however many WORKERS share it (cluster/node-buckets.ts).
 */
function rateLimits(int: IntReader): Config["rateLimit"] {
  const perSecond = int("RATE_LIMIT_PER_SECOND", 50, 1, 1_000_000);
  const burst = int("RATE_LIMIT_BURST", 100, 1, 1_000_000);
  const perMinute = (name: string, fallback: number) => int(name, fallback, 1, 1_000_000) / 60;
  const limits = {
    user: { perSecond: int("USER_RATE_LIMIT_PER_SECOND", perSecond, 1, 1_000_000), burst: int("USER_RATE_LIMIT_BURST", burst, 1, 1_000_000) },
    address: { perSecond: int("ADDRESS_RATE_LIMIT_PER_SECOND", perSecond, 1, 1_000_000), burst: int("ADDRESS_RATE_LIMIT_BURST", burst, 1, 1_000_000) },
    flood: { perSecond: int("FLOOD_LIMIT_PER_SECOND", 1000, 1, 1_000_000), burst: int("FLOOD_LIMIT_BURST", 2000, 1, 1_000_000) },
    // Measured: ~10–20 scrypt/s on a 2-core machine (DESIGN.md, Hardening); one address gets about a tenth of that.
    passwordAddress: { perSecond: perMinute("SIGNIN_ADDRESS_LIMIT_PER_MINUTE", 60), burst: int("SIGNIN_ADDRESS_BURST", 10, 1, 1_000_000) },
  };
  const signIns = int("SIGNIN_LIMIT_PER_MINUTE", 10, 1, 100_000);
  return {
    ...limits,
    signInUsername: { perSecond: signIns / 60, burst: signIns },
    passwordCallsPerAddress: int("SIGNIN_ADDRESS_CONCURRENCY", 2, 1, 1_000_000),
  };
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

  /** Browser origins: http(s)://host[:port] and nothing after it, normalised as browsers send them. */
  const origins = (name: string): string[] =>
    list(name, "").flatMap((raw) => {
      const url = URL.canParse(raw) ? new URL(raw) : undefined;
      if (url && /^https?:$/.test(url.protocol) && url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password) {
        return [url.origin];
      }
      problems.push(`${name}: ${JSON.stringify(raw)} is not an origin such as https://chat.example.com or http://localhost:8080`);
      return [];
    });

  const dataDir = resolve(env.DATA_DIR || "./data");
  // One worker per core by default: one process cannot use a second core (see DESIGN.md).
  const workers = !env.WORKERS || env.WORKERS === "auto" ? availableParallelism() : workerCount(env.WORKERS, problems);
  const bus = oneOf("BUS", "memory", ["memory", "kafka"]);
  const store = oneOf("STORE", "sqlite", ["sqlite", "cassandra"]);
  const host = env.HOST || "0.0.0.0";
  const metricsPort = env.METRICS_PORT ? int("METRICS_PORT", 0, 0, 65535) : undefined;
  const config: Config = {
    host,
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
    publicOrigins: origins("PUBLIC_ORIGINS"),
    metrics: metricsPort === undefined ? undefined : { port: metricsPort, host: env.METRICS_HOST || host },
    trustedProxies: list("TRUSTED_PROXIES", ""),
    rateLimit: rateLimits(int),
    passwordHashing: {
      // One hash per core this process may use, leaving libuv's other pool threads (4 by default) to files and DNS.
      concurrency: int("PASSWORD_HASH_CONCURRENCY", Math.max(1, Math.min(3, Math.floor(availableParallelism() / workers))), 1, 64),
      queue: int("PASSWORD_HASH_QUEUE", 8, 0, 1_000_000),
    },
    maxBodyBytes: int("MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    connections: {
      firstBytesMs: int("FIRST_BYTES_TIMEOUT_SECONDS", 10, 1, 3600) * 1000,
      headersMs: int("HEADERS_TIMEOUT_SECONDS", 15, 1, 3600) * 1000,
      requestMs: int("REQUEST_TIMEOUT_SECONDS", 30, 1, 3600) * 1000,
      keepAliveMs: int("KEEP_ALIVE_TIMEOUT_SECONDS", 65, 1, 3600) * 1000,
      h2IdleMs: int("H2_IDLE_TIMEOUT_SECONDS", 30, 1, 86_400) * 1000,
      maxPerAddress: int("MAX_CONNECTIONS_PER_ADDRESS", 2000, 1, 1_000_000),
    },
    maxStreamsPerUser: int("MAX_STREAMS_PER_USER", 100, 1, 1_000_000),
    revocationSweepMs: int("REVOCATION_SWEEP_SECONDS", 5, 1, 3600) * 1000,
    cassandra: {
      contactPoints: list("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042"),
      localDc: env.CASSANDRA_LOCAL_DC || "datacenter1",
      keyspace: env.CASSANDRA_KEYSPACE || "parley",
      replication: env.CASSANDRA_REPLICATION || "{'class': 'SimpleStrategy', 'replication_factor': 1}",
      consistency: oneOf("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM", ["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"]),
      // Below the 2 s a call may take when Cassandra is down (DESIGN.md, Engine failures).
      requestTimeoutMs: int("CASSANDRA_REQUEST_TIMEOUT_MS", 1500, 100, 120_000),
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
  // Node refuses a headers timeout longer than the request timeout (headers are part of the request).
  if (config.connections.headersMs > config.connections.requestMs) problems.push("HEADERS_TIMEOUT_SECONDS must not exceed REQUEST_TIMEOUT_SECONDS");
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === config.port) problems.push(`METRICS_PORT=${metricsPort}: must differ from PORT (it is the metrics' own listener)`);
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
