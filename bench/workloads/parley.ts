/**
 * Setting up one measured Parley: a fresh data directory, the run's users (seeded or signed
 * up, see users.ts), the server process with bench settings, and tearing it all down again.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import { startParley, workerCount, type ServerProcess } from "../servers.js";
import { type BenchUser, seedUsers, signUpUsers } from "../users.js";

export interface ParleyRun {
  /** Where subscribers connect. */
  readonly server: ServerProcess;
  /** Where posts go: node A of a two-node run, else `server`. */
  readonly postServer: ServerProcess;
  readonly users: BenchUser[];
  readonly dataDir: string;
  readonly signupSeconds: number;
  /** Stops the server; removes the data directory unless --keep-data. */
  close(): Promise<void>;
}

/** What the target column says: "parley", with the worker count in cluster mode, or the nodes and adapters. */
export function parleyLabel(options: BenchOptions): string {
  if (options.store === "cassandra") return `parley ${options.crossNode ? "A→B" : "A→A"} (cassandra+${options.bus})`;
  if (options.bus !== "memory") return `parley (${options.bus})`;
  const workers = workerCount(options.workers);
  return workers > 1 ? `parley ×${workers}` : "parley";
}

export async function startParleyWithUsers(options: BenchOptions, userCount: number, log: ProgressLog): Promise<ParleyRun> {
  if (options.store === "cassandra") return startTwoNodes(options, userCount, log);
  const dataDir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  const env: Record<string, string> = { SQLITE_SYNCHRONOUS: options.sqliteSynchronous, ...engineEnv(options), ...options.env };
  env.WORKERS = options.workers;
  let users: BenchUser[] = [];
  let signupSeconds = 0;
  const started = performance.now();
  if (options.signup === "seed") {
    log.line(`seeding ${userCount} users through the store port`);
    users = await seedUsers(dataDir, userCount);
    log.line(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const server = await startParley({
    dataDir,
    env,
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
    nodeArgs: options.nodeArgs,
    nice: options.serverNice,
    onOutput: (text) => {
      if (!options.quiet) process.stderr.write(text.split("\n").filter(Boolean).map((l) => `[server] ${l.slice(0, 400)}\n`).join(""));
    },
  });
  if (options.signup === "api") {
    log.line(`signing up ${userCount} users over gRPC (scrypt: slow)`);
    const t = performance.now();
    users = await signUpUsers(server.url, userCount, 16);
    signupSeconds = (performance.now() - t) / 1000;
    log.line(`signed up in ${signupSeconds.toFixed(1)} s`);
  }
  return {
    server,
    postServer: server,
    users,
    dataDir,
    signupSeconds,
    async close() {
      await server.stop();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
      else log.line(`data kept in ${dataDir}`);
    },
  };
}

/** Adapter settings for the server; the engines' addresses come from `scripts/engines.sh start`. */
function engineEnv(options: BenchOptions): Record<string, string> {
  const env: Record<string, string> = { STORE: options.store, BUS: options.bus };
  const run = Math.random().toString(36).slice(2, 8);
  if (options.store === "cassandra") {
    env.CASSANDRA_CONTACT_POINTS = required("CASSANDRA_CONTACT_POINTS");
    env.CASSANDRA_LOCAL_DC = process.env.CASSANDRA_LOCAL_DC ?? "datacenter1";
    env.CASSANDRA_KEYSPACE = `parley_bench_${run}`;
  }
  if (options.bus === "kafka") {
    env.KAFKA_BROKERS = required("KAFKA_BROKERS");
    env.KAFKA_TOPIC_PREFIX = `parley-bench-${run}`;
  }
  return env;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the engines with eval "$(bash scripts/engines.sh start)"`);
  return value;
}

/**
 * Two Parley nodes sharing one Cassandra keyspace and one bus (and one signing key, as a
 * deployment would): users sign up on A; subscribers connect to B for the cross-node figure,
 * or to A for the single-node figure of the same deployment.
 */
async function startTwoNodes(options: BenchOptions, userCount: number, log: ProgressLog): Promise<ParleyRun> {
  const shared: Record<string, string> = {
    ...engineEnv(options),
    // One process per node: the figure is the cross-node hop, not the cores.
    WORKERS: "1",
    TOKEN_PRIVATE_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    ...options.env,
  };
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "parley-bench-")));
  const quietOutput = (node: string) => (text: string) => {
    if (!options.quiet) process.stderr.write(text.split("\n").filter(Boolean).map((l) => `[${node}] ${l.slice(0, 400)}\n`).join(""));
  };
  // A first: it creates the schema; Cassandra 5.0 does not coordinate schema changes made at once by two nodes.
  const a = await startParley({
    dataDir: dirs[0]!,
    env: { ...shared, WORKER_ID: "1" },
    nodeArgs: options.nodeArgs,
    nice: options.serverNice,
    onOutput: quietOutput("A"),
  });
  const b = await startParley({
    dataDir: dirs[1]!,
    env: { ...shared, WORKER_ID: "2" },
    nodeArgs: options.nodeArgs,
    nice: options.serverNice,
    onOutput: quietOutput("B"),
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  log.line(`signing up ${userCount} users on node A over gRPC (scrypt: slow)`);
  const t = performance.now();
  const users = await signUpUsers(a.url, userCount, 16);
  const signupSeconds = (performance.now() - t) / 1000;
  return {
    server: options.crossNode ? b : a,
    postServer: a,
    users,
    dataDir: dirs[0]!,
    signupSeconds,
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Splits items into `parts` contiguous slices of nearly equal size. */
export function slices<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < parts; i++) out.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return out;
}
