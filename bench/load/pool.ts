/**
 * The coordinator's side of the load processes: forks them (tsx, same Node), sends requests,
 * awaits the replies, and folds their progress notes into one line on stderr.
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { procStats } from "../proc-stats.js";
import type { Progress, Reply, Request } from "./protocol.js";
import { SERVER_NODE_FLAGS } from "../../src/node-flags.js";

const WORKER = resolve(import.meta.dirname, "worker.ts");

type ReplyOf<R extends Request> = R extends { op: "connect" }
  ? Extract<Reply, { op: "connect" }>
  : R extends { op: "chat" | "ingest" }
    ? Extract<Reply, { op: "posted" }>
    : R extends { op: "stats" }
      ? Extract<Reply, { op: "stats" }>
      : Extract<Reply, { op: "ok" }>;

class LoadProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  progress: Progress = { op: "progress", connected: 0, received: 0, posted: 0 };

  constructor(readonly index: number, cpuProfDir?: string) {
    const profile = cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : [];
    this.#child = fork(WORKER, [], {
      // The server's young-generation cap (src/node-flags.ts) makes the load processes cheaper too.
      execArgv: ["--import", "tsx", "--max-old-space-size=4096", ...SERVER_NODE_FLAGS, ...profile],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (message: Reply | Progress) => {
      if (message.op === "progress") {
        this.progress = message;
        return;
      }
      const waiter = this.#waiting.get(message.id);
      this.#waiting.delete(message.id);
      if (message.op === "failed") waiter?.reject(new Error(`load process ${index}: ${message.message}`));
      else waiter?.resolve(message);
    });
    this.#child.on("exit", (code, signal) => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error(`load process ${index} exited (${code ?? signal})`));
      this.#waiting.clear();
    });
  }

  request<R extends Request>(request: R): Promise<ReplyOf<R>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (reply: Reply) => void, reject });
      this.#child.send({ ...request, id });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when the process has exited, or after `ms`. */
  exited(ms: number): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }
}

/** A set of load processes. */
export class LoadPool {
  readonly processes: LoadProcess[];

  constructor(count: number, cpuProfDir?: string) {
    this.processes = Array.from({ length: count }, (_, i) => new LoadProcess(i, cpuProfDir));
  }

  /** Sends one request to every process (built per process) and awaits all replies. */
  all<R extends Request>(make: (index: number) => R): Promise<ReplyOf<R>[]> {
    return Promise.all(this.processes.map((p) => p.request(make(p.index))));
  }

  /** CPU seconds (user + system) the load processes have used so far. */
  cpuSeconds(): number {
    return this.processes.reduce((sum, p) => sum + (p.pid === undefined ? 0 : procStats(p.pid).cpuSeconds), 0);
  }

  /** Totals of the latest progress notes. */
  totals(): { connected: number; received: number; posted: number } {
    let connected = 0;
    let received = 0;
    let posted = 0;
    for (const p of this.processes) {
      connected += p.progress.connected;
      received += p.progress.received;
      posted += p.progress.posted;
    }
    return { connected, received, posted };
  }

  async close(): Promise<void> {
    await Promise.race([
      Promise.allSettled(this.processes.map((p) => p.request({ op: "close" }))),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    await Promise.all(this.processes.map((p) => p.exited(10_000)));
    for (const p of this.processes) p.kill();
  }
}
