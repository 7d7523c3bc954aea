/**
 * Folding what the load processes report into one set of figures: merged latency histograms,
 * per-message last-receiver times, per-origin delivery counts and checksums, presence and typing
 * frames, errors.
 */
import { Histogram } from "./histogram.js";
import type { LoadPool } from "./load/pool.js";
import type { StatsResult } from "./load/protocol.js";
import type { LatencyFigures } from "./result.js";

/** A histogram of µs as ms figures. */
export function latencyFigures(h: Histogram): LatencyFigures {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return { count: h.count, p50: ms(h.quantile(0.5)), p99: ms(h.quantile(0.99)), max: ms(h.max) };
}

export interface Gathered {
  readonly open: number;
  readonly received: number;
  readonly byOrigin: Map<number, { count: number; checksum: number }>;
  readonly latency: Histogram;
  /** seq → latest receipt over every process, µs (for the `lastOf` origin). */
  readonly lastBySeq: Map<number, number>;
  readonly heartbeats: number;
  readonly presenceFrames: number;
  readonly typingFrames: number;
  readonly typingLatency: Histogram;
  readonly presenceLag: Histogram;
  readonly errors: Record<string, number>;
  readonly samples: string[];
}

export function merge(stats: readonly StatsResult[]): Gathered {
  const byOrigin = new Map<number, { count: number; checksum: number }>();
  const lastBySeq = new Map<number, number>();
  const errors: Record<string, number> = {};
  const samples: string[] = [];
  let open = 0;
  let received = 0;
  let heartbeats = 0;
  let presenceFrames = 0;
  let typingFrames = 0;
  for (const s of stats) {
    open += s.open;
    presenceFrames += s.presenceFrames;
    typingFrames += s.typingFrames;
    received += s.received;
    heartbeats += s.heartbeats;
    for (const [origin, o] of Object.entries(s.byOrigin)) {
      const into = byOrigin.get(Number(origin)) ?? { count: 0, checksum: 0 };
      into.count += o.count;
      into.checksum += o.checksum;
      byOrigin.set(Number(origin), into);
    }
    for (const [seq, latency] of s.lastBySeq) lastBySeq.set(seq, Math.max(lastBySeq.get(seq) ?? 0, latency));
    for (const [kind, n] of Object.entries(s.errors)) errors[kind] = (errors[kind] ?? 0) + n;
    samples.push(...s.samples);
  }
  return {
    open,
    received,
    byOrigin,
    latency: Histogram.from(stats.map((s) => s.latency)),
    lastBySeq,
    heartbeats,
    presenceFrames,
    typingFrames,
    typingLatency: Histogram.from(stats.map((s) => s.typingLatency)),
    presenceLag: Histogram.from(stats.map((s) => s.presenceLag)),
    errors,
    samples: samples.slice(0, 10),
  };
}

export async function gather(pool: LoadPool, lastOf?: number): Promise<Gathered> {
  return merge(await pool.all(() => ({ op: "stats" as const, ...(lastOf === undefined ? {} : { lastOf }) })));
}

/**
 * Waits until the processes together received `expected` bench messages (or, with `count`, that
 * many of what it counts, e.g. typing frames), or the time is up.
 */
export async function waitForDeliveries(
  pool: LoadPool,
  expected: number,
  timeoutMs: number,
  onPoll?: (received: number) => void,
  count: (stats: StatsResult) => number = (s) => s.received,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let received = 0;
  for (;;) {
    const stats = await pool.all(() => ({ op: "stats" as const }));
    received = stats.reduce((sum, s) => sum + count(s), 0);
    onPoll?.(received);
    if (received >= expected || Date.now() > deadline) return received;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits until the processes' bench-message count has not moved for `quietMs` (deliveries of
 * posts whose receivers are not known in advance, as in join-storm), or `timeoutMs` passed.
 */
export async function waitForQuiet(pool: LoadPool, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const received = (await pool.all(() => ({ op: "stats" as const }))).reduce((sum, s) => sum + s.received, 0);
    if (received !== last) {
      last = received;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Adds error counts into a total. */
export function addErrors(into: Record<string, number>, more: Readonly<Record<string, number>>): void {
  for (const [kind, n] of Object.entries(more)) if (n > 0) into[kind] = (into[kind] ?? 0) + n;
}
