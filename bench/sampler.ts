/**
 * Watches a server while a workload runs: its process-tree memory and CPU at chosen instants,
 * its CPU second by second over a window (average and busiest-second cores), and the event-loop
 * lag p99 from GET /metrics every few seconds (prom-client resets that histogram on each scrape,
 * so each sample covers the window before it).
 */
import { procStats, type ProcStats } from "./proc-stats.js";
import type { ServerProcess } from "./servers.js";

/** Scrape period: prom-client default metrics cost ~20 ms at 20k descriptors (process_open_fds). */
const SCRAPE_MS = 5000;
/** Each process's series (a multi-process node's /metrics has one per worker and one for its primary). */
const LAG_P99 = /^nodejs_eventloop_lag_p99_seconds(?:\{([^}]*)\})?\s+([0-9.eE+-]+)/gm;

/** The highest event-loop lag p99 of the processes that serve clients (not a cluster's primary), seconds. */
function servingLagP99(body: string): number | undefined {
  let max: number | undefined;
  for (const [, labels = "", value] of body.matchAll(LAG_P99)) {
    if (labels.includes('worker="primary"')) continue;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && (max === undefined || seconds > max)) max = seconds;
  }
  return max;
}

/** Server CPU over a window, in cores (1.0 = one core busy): the average and the busiest second. */
export interface CpuWindow {
  readonly avgCores: number;
  readonly peakCores: number;
}

export class ServerSampler {
  #timer: NodeJS.Timeout | undefined;
  #cpuTimer: NodeJS.Timeout | undefined;
  #cpuStart: { readonly at: number; readonly cpuSeconds: number } | undefined;
  #cpuLast: { at: number; cpuSeconds: number } | undefined;
  #peakCores = 0;
  #maxLagMs: number | undefined;
  #inFlight = false;
  #discardNext = false;

  constructor(private readonly server: ServerProcess, private readonly hasMetrics: boolean) {}

  get pid(): number {
    return this.server.pid;
  }

  get port(): number {
    return this.server.port;
  }

  stats(): ProcStats {
    return procStats(this.server.pid);
  }

  /** Starts (or restarts) reading the server's CPU every second, for stopCpu(). */
  startCpu(): void {
    this.#stopCpuTimer();
    const first = { at: performance.now(), cpuSeconds: this.stats().cpuSeconds };
    this.#cpuStart = first;
    this.#cpuLast = { ...first };
    this.#peakCores = 0;
    this.#cpuTimer = setInterval(() => this.#readCpu(), 1000);
  }

  /** Stops reading the CPU; the average and peak cores since startCpu() (zeros when not started). */
  stopCpu(): CpuWindow {
    const start = this.#cpuStart;
    this.#stopCpuTimer();
    if (!start) return { avgCores: 0, peakCores: 0 };
    this.#readCpu();
    const last = this.#cpuLast!;
    const seconds = (last.at - start.at) / 1000;
    const round = (x: number) => Math.round(x * 100) / 100;
    this.#cpuStart = undefined;
    return { avgCores: round(seconds > 0 ? (last.cpuSeconds - start.cpuSeconds) / seconds : 0), peakCores: round(this.#peakCores) };
  }

  #readCpu(): void {
    const last = this.#cpuLast;
    if (!last) return;
    const now = { at: performance.now(), cpuSeconds: this.stats().cpuSeconds };
    const seconds = (now.at - last.at) / 1000;
    // A reading less than half a second after the last one (the final one) is too coarse for a peak: clock ticks are 10 ms.
    if (seconds >= 0.5) this.#peakCores = Math.max(this.#peakCores, (now.cpuSeconds - last.cpuSeconds) / seconds);
    this.#cpuLast = now;
  }

  #stopCpuTimer(): void {
    if (this.#cpuTimer) clearInterval(this.#cpuTimer);
    this.#cpuTimer = undefined;
  }

  /** Starts (or restarts) collecting the lag maximum. */
  startLag(): void {
    this.#cancel();
    this.#maxLagMs = undefined;
    if (!this.hasMetrics) return;
    // The first scrape covers the time since the last one (set-up): it only resets the histogram.
    this.#discardNext = true;
    void this.#scrape();
    this.#timer = setInterval(() => void this.#scrape(), SCRAPE_MS);
  }

  /** Stops collecting after one last scrape; returns the highest p99 seen, ms. */
  async stopLag(): Promise<number | undefined> {
    const running = this.#timer !== undefined;
    this.#cancel();
    if (running) {
      while (this.#inFlight) await new Promise((r) => setTimeout(r, 10));
      await this.#scrape();
    }
    return this.#maxLagMs;
  }

  #cancel(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #scrape(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const { status, body } = await this.server.get("/metrics");
      const lag = status === 200 ? servingLagP99(body) : undefined;
      if (this.#discardNext) this.#discardNext = false;
      else if (lag !== undefined) {
        const ms = lag * 1000;
        if (this.#maxLagMs === undefined || ms > this.#maxLagMs) this.#maxLagMs = ms;
      }
    } catch {
      // A busy server may miss a scrape; the next one counts.
    } finally {
      this.#inFlight = false;
    }
  }
}
