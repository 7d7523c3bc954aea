/**
 * Starts the real Parley server as a child process (node --import tsx src/main.ts) on a random
 * loopback port with its own data directory, exactly as `npm start` runs it — and with the
 * settings a user gets: one worker per core (`WORKERS=auto`), the server's own rate limits,
 * SQLite `synchronous=FULL`, the 5 s shutdown grace period. A test that needs something else
 * says so in one place, its StartOptions: `env` for the settings the test is about, and a named
 * departure (`oneProcess`, `raisedLimits`) with the reason it cannot run as a user's node does.
 *
 * The server is ready when the node is whole: the single process, or the cluster primary once
 * every worker listens. kill() is a crash of the whole node, workers included.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SERVER_NODE_FLAGS } from "../../src/node-flags.js";

const ROOT = resolve(import.meta.dirname, "../..");

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server process: with WORKERS > 1 the cluster primary, whose children are the workers. */
  readonly pid: number;
  /** Everything the server printed (JSON log lines), workers included. */
  readonly output: () => string;
  /** Resolves once what the server printed satisfies `check` (tested at once, then on each chunk it prints). */
  printed(check: (output: string) => boolean, timeoutMs?: number): Promise<void>;
  /** False once the server process has exited (a crash, or after stop/kill). */
  readonly alive: () => boolean;
  /** Resolves with the exit code once the server process has exited (null after a signal). */
  readonly exited: Promise<number | null>;
  /** One SIGTERM, as a supervisor sends it: the node drains for its grace period, then exits. */
  terminate(): void;
  /**
   * Stops the node as an operator in a hurry does: SIGTERM, and once the node has begun to stop
   * a second SIGTERM, which ends the grace period at once. Resolves with the exit code. Tests
   * of the grace period itself use terminate() and `exited`.
   */
  stop(): Promise<number | null>;
  /** SIGKILL to every process of the node: it dies without any cleanup, as in a crash. */
  kill(): Promise<void>;
}

/**
 * Departures from what a user's node runs with. Each one is given as the reason this test needs
 * it (one line): the reason is the documentation, and a departure without one is not possible.
 */
export interface Departures {
  /** `WORKERS=1`: one process instead of one per core. */
  readonly oneProcess?: string;
  /**
   * Every rate limit, sign-in budget and the password-hash queue far above anything a test
   * sends from its few loopback addresses (see RAISED_LIMITS).
   */
  readonly raisedLimits?: string;
}

export interface StartOptions extends Departures {
  readonly dataDir?: string;
  readonly port?: number;
  /** WORKERS, for a test that runs under several worker counts (the count is in its name). */
  readonly workers?: number;
  /** Settings the test is about (e.g. MAX_BODY_BYTES for a body-limit test); a user's defaults otherwise. */
  readonly env?: Readonly<Record<string, string>>;
  /** The file-creation mask the server starts with (e.g. "000"), set by a shell that then execs Node. */
  readonly umask?: string;
}

/** What `raisedLimits` sets: far above what a test sends, below the values config accepts. */
const RAISED_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_PER_SECOND: "100000",
  RATE_LIMIT_BURST: "100000",
  FLOOD_LIMIT_PER_SECOND: "100000",
  FLOOD_LIMIT_BURST: "100000",
  SIGNIN_LIMIT_PER_MINUTE: "100000",
  SIGNIN_ADDRESS_LIMIT_PER_MINUTE: "1000000",
  SIGNIN_ADDRESS_BURST: "100000",
  SIGNIN_ADDRESS_CONCURRENCY: "100000",
  PASSWORD_HASH_QUEUE: "100000",
};

export function tempDir(prefix = "parley-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The one place a test's server environment is decided: a user's defaults, then the test's departures and settings. */
function serverEnv(options: StartOptions, dataDir: string): NodeJS.ProcessEnv {
  for (const [name, reason] of Object.entries({ oneProcess: options.oneProcess, raisedLimits: options.raisedLimits })) {
    if (reason !== undefined && reason.trim() === "") throw new Error(`startServer: ${name} needs the reason this test needs it`);
  }
  if (options.oneProcess !== undefined && options.workers !== undefined) throw new Error("startServer: oneProcess and workers both set WORKERS");
  return {
    ...process.env,
    HOST: "127.0.0.1",
    PORT: String(options.port ?? 0),
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    ...(options.raisedLimits === undefined ? {} : RAISED_LIMITS),
    ...(options.oneProcess === undefined ? {} : { WORKERS: "1" }),
    ...(options.workers === undefined ? {} : { WORKERS: String(options.workers) }),
    ...options.env,
  };
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
  const child = spawn(command, argv, { cwd: ROOT, env: serverEnv(options, dataDir), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const watchers = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const port = await waitForListening(child, () => output);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const printed = (check: (output: string) => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolvePrinted, reject) => {
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
  let stopping: Promise<number | null> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    pid: child.pid!,
    output: () => output,
    printed,
    alive,
    exited,
    terminate() {
      if (alive()) child.kill("SIGTERM");
    },
    stop() {
      stopping ??= (async () => {
        if (!alive()) return child.exitCode;
        child.kill("SIGTERM");
        // The second signal only once the first has been handled: two pending signals are one.
        // What main.ts (one process) or cluster/primary.ts logs on taking the signal.
        const begun = new RegExp(`"pid":${child.pid},[^\\n]*"msg":"(?:shutting down|stopping workers)"`);
        await new Promise<void>((handled) => {
          const watcher = () => {
            if (!begun.test(output) && alive()) return;
            watchers.delete(watcher);
            handled();
          };
          watchers.add(watcher);
          void exited.then(watcher);
          watcher();
        });
        if (alive()) child.kill("SIGTERM");
        return exited;
      })();
      return stopping;
    },
    async kill() {
      if (!alive()) return;
      killNode(child.pid!);
      await exited;
    },
  };
}

/**
 * SIGKILLs a node: its process and that process's children (the cluster workers). The primary is
 * stopped first, so it can neither fork a replacement nor see its workers die, and the workers
 * are killed before it, so none of them sees its primary go (a worker whose primary is gone
 * stops gracefully, which is not a crash). When this returns, no process of the node runs again.
 */
function killNode(pid: number): void {
  signal(pid, "SIGSTOP");
  for (const child of childPids(pid)) signal(child, "SIGKILL");
  signal(pid, "SIGKILL");
}

/** process.kill, except that a process already gone is no error. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** The pids whose parent is `parent` (Linux /proc; the tests run on Linux). */
function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === parent) children.push(Number(entry));
  }
  return children;
}

interface LogLine {
  readonly pid?: number;
  readonly msg?: string;
  readonly port?: number;
}

/** The JSON log lines of what the server printed (other lines, e.g. a stack on stderr, are skipped). */
function logLines(output: string): LogLine[] {
  return output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return []; // a line still being written
    }
  });
}

/**
 * The port, once the node is whole: the server process itself logs "parley listening" (one
 * process) or "parley cluster listening" (the primary, after every worker) — a worker's own
 * "parley listening" comes earlier, from another pid.
 */
function waitForListening(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 60 s:\n${output()}`)), 60_000);
    const onData = () => {
      const ready = logLines(output()).find((l) => l.pid === child.pid && (l.msg === "parley listening" || l.msg === "parley cluster listening"));
      if (ready?.port !== undefined) {
        cleanup();
        resolvePort(ready.port);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`server exited with ${code} before listening:\n${output()}`));
    const fail = (error: Error) => {
      cleanup();
      if (child.exitCode === null && child.signalCode === null) killNode(child.pid!);
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
