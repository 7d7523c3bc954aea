/**
 * Setting up one measured Parley: a fresh data directory, the run's users (seeded or signed
 * up, see users.ts), the server process with bench settings, and tearing it all down again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import { startParley, type ServerProcess } from "../servers.js";
import { type BenchUser, seedUsers, signUpUsers } from "../users.js";

export interface ParleyRun {
  readonly server: ServerProcess;
  readonly users: BenchUser[];
  readonly dataDir: string;
  readonly signupSeconds: number;
  /** Stops the server; removes the data directory unless --keep-data. */
  close(): Promise<void>;
}

/** What the target column says: "parley", with the worker count in cluster mode. */
export function parleyLabel(options: BenchOptions): string {
  return options.workers ? `parley ×${options.workers}` : "parley";
}

export async function startParleyWithUsers(options: BenchOptions, userCount: number, log: ProgressLog): Promise<ParleyRun> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  const env: Record<string, string> = { SQLITE_SYNCHRONOUS: options.sqliteSynchronous, ...options.env };
  if (options.workers) env.WORKERS = options.workers;
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

/** Splits items into `parts` contiguous slices of nearly equal size. */
export function slices<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < parts; i++) out.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return out;
}
