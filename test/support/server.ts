/**
 * Starts the real Parley server as a child process (node --import tsx src/main.ts) on a random loopback port
 * with its own data directory, exactly as `npm start` runs it. stop() sends SIGTERM and waits
 * for a clean exit; kill() sends SIGKILL (a crashed node).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SERVER_NODE_FLAGS } from "../../src/node-flags.js";

const ROOT = resolve(import.meta.dirname, "../..");

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server process (with WORKERS > 1, the cluster primary; its workers are its children). */
  readonly pid: number;
  /** Everything the server printed (JSON log lines). */
  readonly output: () => string;
  /** Resolves once what the server printed satisfies `check` (tested at once, then on each chunk it prints). */
  printed(check: (output: string) => boolean, timeoutMs?: number): Promise<void>;
  /** False once the server process has exited (a crash, or after stop/kill). */
  readonly alive: () => boolean;
  /** SIGTERM, then waits for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the node dies without any cleanup. */
  kill(): Promise<void>;
}

/**
 * Env that puts every rate limit and the password-hash queue back to the server's documented
 * defaults (startServer lifts them far above what tests send; an empty value means "default").
 */
export const DEFAULT_LIMITS_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_BURST",
    "FLOOD_LIMIT_PER_SECOND",
    "FLOOD_LIMIT_BURST",
    "SIGNIN_LIMIT_PER_MINUTE",
    "SIGNIN_ADDRESS_LIMIT_PER_MINUTE",
    "SIGNIN_ADDRESS_BURST",
    "SIGNIN_ADDRESS_CONCURRENCY",
    "PASSWORD_HASH_QUEUE",
  ].map((name) => [name, ""]),
);

export interface StartOptions {
  readonly dataDir?: string;
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** The file-creation mask the server starts with (e.g. "000"), set by a shell that then execs Node. */
  readonly umask?: string;
}

export function tempDir(prefix = "parley-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  // Node itself with tsx as a loader (not the tsx launcher), so signals reach the server process;
  // with the Node flags `npm start` passes.
  if (options.umask !== undefined && !/^[0-7]{3,4}$/.test(options.umask)) throw new Error(`not a umask: ${options.umask}`);
  const args = [...SERVER_NODE_FLAGS, "--import", "tsx", "src/main.ts"];
  // With a umask: `sh -c 'umask M; exec node …'` — exec keeps one process, so signals still reach the server.
  const [command, argv] =
    options.umask === undefined ? [process.execPath, args] : ["/bin/sh", ["-c", `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(options.port ?? 0),
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
      SQLITE_SYNCHRONOUS: "NORMAL",
      // Limits far above what tests send from their one address; tests of the limits set them (test/e2e/rate-limits.test.ts).
      RATE_LIMIT_PER_SECOND: "100000",
      RATE_LIMIT_BURST: "100000",
      FLOOD_LIMIT_PER_SECOND: "100000",
      FLOOD_LIMIT_BURST: "100000",
      SIGNIN_LIMIT_PER_MINUTE: "100000",
      SIGNIN_ADDRESS_LIMIT_PER_MINUTE: "1000000",
      SIGNIN_ADDRESS_BURST: "100000",
      SIGNIN_ADDRESS_CONCURRENCY: "100000",
      PASSWORD_HASH_QUEUE: "100000",
      // One process unless a test asks for more (the default is one per core): a test's server
      // starts faster, and SIGKILL kills the whole node. test/e2e/cluster.test.ts runs workers.
      WORKERS: "1",
      // Stop at once: a test that wants the drain's grace period sets it.
      SHUTDOWN_GRACE_SECONDS: "0",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const watchers = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const port = await waitForListening(child, () => output, workerCount(options.env?.WORKERS ?? "1"));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    pid: child.pid!,
    output: () => output,
    printed(check, timeoutMs = 10_000) {
      return new Promise((resolvePrinted, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new Error(`the server did not print what was expected in ${timeoutMs} ms; it printed:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const watcher = () => {
          if (!check(output)) return;
          clearTimeout(timer);
          watchers.delete(watcher);
          resolvePrinted();
        };
        watchers.add(watcher);
        watcher();
      });
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** How many workers WORKERS starts (as config.ts reads it): "auto" or unset is one per core. */
function workerCount(workers: string): number {
  return workers === "" || workers === "auto" ? availableParallelism() : Number(workers);
}

/**
 * Resolves with the port once the whole node listens: one process's "parley listening", or for
 * several workers the primary's "parley cluster listening" — not the first worker's line, or a
 * test would talk to a node of one worker.
 */
function waitForListening(child: ChildProcess, output: () => string, workers: number): Promise<number> {
  const listening = workers > 1 ? /"msg":"parley cluster listening"/ : /"msg":"parley listening"/;
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 30 s:\n${output()}`)), 30_000);
    const onData = () => {
      const line = output().split("\n").find((l) => listening.test(l));
      const match = line && /"port":(\d+)/.exec(line);
      if (match) {
        cleanup();
        resolvePort(Number(match[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`server exited with ${code} before listening:\n${output()}`));
    const fail = (error: Error) => {
      cleanup();
      child.kill("SIGKILL");
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
}
