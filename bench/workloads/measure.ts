/** Steps every workload shares: connect the users' subscriptions while watching the server. */
import { Histogram } from "../histogram.js";
import type { LoadPool } from "../load/pool.js";
import type { LoadUser, Via } from "../load/protocol.js";
import { LOCAL_ADDRESSES, type BenchOptions } from "../options.js";
import type { ProcStats } from "../proc-stats.js";
import type { ProgressLog } from "../progress.js";
import type { EphemeralFigures, ServerFigures } from "../result.js";
import type { ServerSampler } from "../sampler.js";
import { slices } from "./parley.js";

export interface Connected {
  readonly subscriptions: number;
  readonly failed: number;
  readonly seconds: number;
  readonly before: ProcStats;
  readonly connected: ProcStats;
  /** Each connection's time from its attempt to its (last) ready, µs. */
  readonly openLatency: Histogram;
  readonly errors: Record<string, number>;
}

const MIB = 1024 * 1024;

export async function connectAndMeasure(args: {
  pool: LoadPool;
  sampler: ServerSampler;
  log: ProgressLog;
  options: BenchOptions;
  via: Via;
  users: readonly LoadUser[];
  room: boolean;
  dm: boolean;
  /** Room streams ask for presence frames (default: --presence). */
  presence?: boolean;
  /** Open the connections at an even pace over this many ms (join-storm), not as fast as possible. */
  spreadMs?: number;
  /** Called as soon as every attempt has become ready or failed (before the settling pause). */
  onAllOpen?: () => void;
}): Promise<Connected> {
  const { pool, sampler, log, options } = args;
  const want = args.users.length * ((args.room ? 1 : 0) + (args.dm ? 1 : 0));
  const before = sampler.stats();
  log.line(`connecting ${want} subscriptions via ${args.via} from ${pool.processes.length} load process(es)`);
  const stop = log.watchConnect(pool, want);
  const parts = slices(args.users, pool.processes.length);
  const started = performance.now();
  let replies;
  try {
    replies = await pool.all((i) => ({
      op: "connect" as const,
      target: { host: "127.0.0.1", port: sampler.port },
      via: args.via,
      users: parts[i]!,
      room: args.room,
      dm: args.dm,
      localAddresses: LOCAL_ADDRESSES,
      // The server's listen backlog is 511: keep the attempts in flight over all processes near it.
      concurrency: options.connectConcurrency ?? Math.max(16, Math.floor(512 / pool.processes.length)),
      presence: args.presence ?? options.presence,
      ...(args.spreadMs === undefined ? {} : { spreadMs: args.spreadMs }),
    }));
  } finally {
    stop();
  }
  args.onAllOpen?.();
  const seconds = (performance.now() - started) / 1000;
  const subscriptions = replies.reduce((sum, r) => sum + r.subscriptions, 0);
  const failed = replies.reduce((sum, r) => sum + r.failed, 0);
  log.line(`connected ${subscriptions}/${want} in ${seconds.toFixed(1)} s, ${failed} failed`);
  // Let the server settle (finish handshakes, collect garbage) before reading its memory.
  await new Promise((r) => setTimeout(r, 2000));
  const connected = sampler.stats();
  if (options.holdS > 0) {
    log.line(`holding ${options.holdS} s (server pid ${sampler.pid})`);
    await new Promise((r) => setTimeout(r, options.holdS * 1000));
  }
  // Failed attempts are counted (as connect_failed) by the load processes' receipts.
  const openLatency = Histogram.from(replies.map((r) => r.openLatency));
  return { subscriptions, failed, seconds, before, connected, openLatency, errors: {} };
}

/** A fanout or chat run's presence figures: only when its streams asked for presence (else the row stays as before). */
export function presenceFigures(options: BenchOptions, presenceFrames: number, subscriptions: number): EphemeralFigures | undefined {
  if (!options.presence) return undefined;
  return {
    presence: true,
    presenceFrames,
    presencePerSubscriber: Math.round((presenceFrames / Math.max(1, subscriptions)) * 100) / 100,
    presenceLag: undefined,
    openLatency: undefined,
    cpuCores: undefined,
    typists: undefined,
  };
}

/** The server's figures of one run. */
export function serverFigures(c: Connected, after: ProcStats, loadStart: ProcStats, lagMs: number | undefined, users: number): ServerFigures {
  const cpuLoadS = after.cpuSeconds - loadStart.cpuSeconds;
  const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    rssBeforeMiB: round(c.before.rssBytes / MIB),
    rssConnectedMiB: round(c.connected.rssBytes / MIB),
    peakRssMiB: round(after.peakRssBytes / MIB),
    rssPerUserKiB: round((c.connected.rssBytes - c.before.rssBytes) / 1024 / Math.max(1, users), 2),
    cpuConnectS: round(c.connected.cpuSeconds - c.before.cpuSeconds, 2),
    cpuLoadS: round(cpuLoadS, 2),
    cpuLoadSystemShare: cpuLoadS > 0 ? round((after.systemSeconds - loadStart.systemSeconds) / cpuLoadS, 2) : 0,
    eventLoopLagP99Ms: lagMs === undefined ? undefined : round(lagMs, 1),
    processes: after.processes,
  };
}
