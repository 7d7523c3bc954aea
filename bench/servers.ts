/**
 * Starts the servers a run measures, each in its own process: Parley (src/main.ts, fresh data
 * directory, bench settings) and the bare ws baseline. Each is ready once GET /healthz answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { request, Agent } from "node:http";
import { availableParallelism, setPriority } from "node:os";
import { resolve } from "node:path";
import { SERVER_NODE_FLAGS } from "../src/node-flags.js";

export const ROOT = resolve(import.meta.dirname, "..");

export interface ServerProcess {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** GET a path on a kept-alive connection; resolves with status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** POST a body; resolves with status and body. */
  post(path: string, body: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export interface ParleyOptions {
  readonly dataDir: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Write a V8 CPU profile into this directory when the server exits. */
  readonly cpuProfDir?: string;
  /** Extra Node flags. */
  readonly nodeArgs?: readonly string[];
  /** Niceness of the server process (its workers inherit it); 0 leaves it alone. */
  readonly nice?: number;
  /** Server output goes here (default: discarded, except a crash is reported). */
  readonly onOutput?: (text: string) => void;
}

/** A free TCP port on the host (there is a small race until the server binds it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function launch(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[],
  nice: number,
  onOutput?: (text: string) => void,
  waitForReady = false,
): Promise<ServerProcess> {
  const host = "127.0.0.1";
  const port = await freePort(host);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script], {
    cwd: ROOT,
    // No drain on stop: nothing balances load across a bench's servers.
    env: { SHUTDOWN_GRACE_SECONDS: "0", ...process.env, ...env, HOST: host, PORT: String(port) },
    // The IPC channel lets a cluster primary say when all its workers listen.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  // At once, before a cluster primary forks its workers: they inherit it. With --server-nice
  // the load generator sharing the cores is served first (an experiment: it helps fan-out with
  // workers and hurts chat and ingest, see BENCHMARKS.md 18:50–18:55; off by default).
  if (nice > 0) setPriority(child.pid!, nice);
  let ready = !waitForReady;
  child.on("message", (message: { parley?: string }) => {
    if (message.parley === "ready") ready = true;
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    onOutput?.(text);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((ok, fail) => {
      const req = request({ host, port, path, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on("error", fail);
      req.end(body);
    });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}:\n${tail}`);
    try {
      if (ready && (await call("GET", "/healthz")).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${script} did not answer /healthz in 60 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    host,
    port,
    url: `http://${host}:${port}`,
    get: (path) => call("GET", path),
    post: (path, body, headers) => call("POST", path, body, headers),
    async stop() {
      agent.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Bench defaults: warn-level logs, rate limits and the connection cap far above the offered load. */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: "warn",
  RATE_LIMIT_PER_SECOND: "1000000",
  RATE_LIMIT_BURST: "1000000",
  FLOOD_LIMIT_PER_SECOND: "1000000",
  FLOOD_LIMIT_BURST: "1000000",
  SIGNIN_LIMIT_PER_MINUTE: "100000",
  // Every load connection comes from one loopback address: the per-address cap would refuse them.
  MAX_CONNECTIONS_PER_ADDRESS: "1000000",
  SIGNIN_ADDRESS_LIMIT_PER_MINUTE: "1000000",
  SIGNIN_ADDRESS_BURST: "1000000",
  SIGNIN_ADDRESS_CONCURRENCY: "1000000",
  PASSWORD_HASH_QUEUE: "100000",
  STORE: "sqlite",
  BUS: "memory",
};

export function startParley(options: ParleyOptions): Promise<ServerProcess> {
  // As `npm start` runs it; --node-arg flags come later and win.
  const nodeArgs = [...SERVER_NODE_FLAGS, ...(options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : []), ...(options.nodeArgs ?? [])];
  const env: Record<string, string> = { ...BENCH_ENV, DATA_DIR: options.dataDir, ...options.env };
  const clustered = workerCount(env.WORKERS) > 1;
  return launch("src/main.ts", env, nodeArgs, options.nice ?? 0, options.onOutput, clustered);
}

/** The bare `ws` server, on the same Node flags as Parley: the ratio compares code, not runtime settings. */
export function startBaseline(cpuProfDir: string | undefined, nice: number): Promise<ServerProcess> {
  return launch("bench/baseline-server.ts", {}, [...SERVER_NODE_FLAGS, ...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [])], nice);
}

/** How many worker processes a WORKERS value starts (unset or "auto": one per core, as the server does). */
export function workerCount(workers: string | undefined): number {
  return workers === undefined || workers === "" || workers === "auto" ? availableParallelism() : Number(workers);
}
