/**
 * ingest: the highest sustained rate of persisted posts. `--users` closed-loop posters (64 by
 * default) each post to their own room over gRPC and post again as soon as the server answers
 * (the answer comes after the row is committed). Reports acknowledged posts/s, post latency and,
 * after the server has stopped, the rows actually in the store.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { Histogram } from "../histogram.js";
import { addErrors, latencyFigures } from "../collect.js";
import { LoadPool } from "../load/pool.js";
import type { LoadUser } from "../load/protocol.js";
import { LOCAL_ADDRESSES, type BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import type { RunFigures } from "../result.js";
import { ServerSampler } from "../sampler.js";
import { createRooms } from "../users.js";
import { serverFigures } from "./measure.js";
import { parleyLabel, slices, startParleyWithUsers } from "./parley.js";

/** Rows in the messages table of a stopped server's data directory. */
function countMessages(dataDir: string): number {
  const db = new Database(join(dataDir, "parley.sqlite"), { readonly: true });
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n);
  } finally {
    db.close();
  }
}

export async function runIngest(options: BenchOptions, log: ProgressLog): Promise<RunFigures> {
  const n = options.users;
  const run = await startParleyWithUsers(options, n, log);
  const rooms = await createRooms(run.server.url, run.users[0]!, n, "ingest");
  const users: LoadUser[] = run.users.map((u, i) => ({ id: u.id, token: u.token, roomId: rooms[i], roomSize: 0 }));
  const pool = new LoadPool(options.loadProcs ?? 2, options.loadCpuProfDir);
  const sampler = new ServerSampler(run.server, true);
  try {
    const before = sampler.stats();
    const loadCpuBefore = pool.cpuSeconds();
    log.line(`${n} closed-loop posters for ${options.durationS} s (SQLITE_SYNCHRONOUS=${options.sqliteSynchronous})`);
    sampler.startLag();
    const stopTraffic = log.watchTraffic(pool);
    const parts = slices(users, pool.processes.length);
    let posted;
    try {
      posted = await pool.all((i) => ({
        op: "ingest" as const,
        target: { host: "127.0.0.1", port: run.server.port },
        origin: i + 1,
        users: parts[i]!,
        durationMs: options.durationS * 1000,
        textSize: options.size,
        localAddresses: LOCAL_ADDRESSES,
      }));
    } finally {
      stopTraffic();
    }
    const lagMs = await sampler.stopLag();
    const after = sampler.stats();
    const loadGenCpuS = Math.round((pool.cpuSeconds() - loadCpuBefore) * 100) / 100;
    const errors: Record<string, number> = {};
    for (const p of posted) addErrors(errors, p.errors);
    const ok = posted.reduce((s, p) => s + p.ok, 0);
    const elapsedS = Math.max(...posted.map((p) => p.elapsedMs)) / 1000;
    await run.server.stop();
    const persisted = countMessages(run.dataDir);
    if (persisted < ok) addErrors(errors, { not_persisted: ok - persisted });
    const postLatency = latencyFigures(Histogram.from(posted.map((p) => p.postLatency)));
    return {
      target: parleyLabel(options),
      workload: "ingest",
      via: "grpc",
      users: n,
      subscriptions: 0,
      connectFailed: 0,
      connectSeconds: 0,
      signupSeconds: run.signupSeconds,
      latency: postLatency,
      lastReceiver: undefined,
      posts: {
        attempted: posted.reduce((s, p) => s + p.attempted, 0),
        ok,
        failed: posted.reduce((s, p) => s + p.failed, 0),
        skipped: 0,
        perSecond: Math.round(ok / elapsedS),
        latency: postLatency,
      },
      delivered: 0,
      expected: 0,
      checksumOk: true,
      persisted,
      errors,
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      errorSamples: [],
      server: serverFigures({ subscriptions: 0, failed: 0, seconds: 0, before, connected: before, openLatency: new Histogram(), errors: {} }, after, before, lagMs, n),
      loadGenCpuS,
    };
  } finally {
    await sampler.stopLag();
    await pool.close();
    await run.close();
  }
}
