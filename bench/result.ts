/** The raw figures of one run (what `--json` writes and report.ts prints). Times in ms. */
import type { Workload } from "./options.js";

export interface LatencyFigures {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ServerFigures {
  /** Resident memory before any client connected, MiB. */
  readonly rssBeforeMiB: number;
  /** Resident memory with every client connected, MiB. */
  readonly rssConnectedMiB: number;
  /** Peak resident memory (VmHWM; summed over processes in cluster mode), MiB. */
  readonly peakRssMiB: number;
  /** (connected − before) / connected users, KiB. */
  readonly rssPerUserKiB: number;
  /** CPU seconds while clients connected, and while the workload ran. */
  readonly cpuConnectS: number;
  readonly cpuLoadS: number;
  /** The kernel's share of cpuLoadS (0..1): socket writes are mostly system time. */
  readonly cpuLoadSystemShare: number;
  /** Highest event-loop lag p99 of the 5-s scrape windows while the workload ran (undefined: not exposed). */
  readonly eventLoopLagP99Ms: number | undefined;
  readonly processes: number;
}

/** The figures of presence and typing (issue #16), for the runs that have them. */
export interface EphemeralFigures {
  /** Whether the room streams asked for presence frames. */
  readonly presence: boolean;
  /** Presence frames received over every subscription (snapshots included), and per subscription. */
  readonly presenceFrames: number;
  readonly presencePerSubscriber: number;
  /**
   * join-storm: from a user's connection attempt to the first presence frame listing them as
   * joined, on one observer stream per load process (users a truncated frame leaves out are not
   * counted: `count` says how many were).
   */
  readonly presenceLag: LatencyFigures | undefined;
  /** Each connection's time from its attempt to its ready (join-storm). */
  readonly openLatency: LatencyFigures | undefined;
  /** Server CPU over the storm (join-storm) or the typing (typing), in cores: average and busiest second. */
  readonly cpuCores: { readonly avg: number; readonly peak: number } | undefined;
  /** typing: distinct typists, and how their frames were timed. */
  readonly typists: number | undefined;
}

export interface RunFigures {
  /** What was measured: "parley" (and its mode) or "bare ws". */
  readonly target: string;
  readonly workload: Workload;
  readonly via: string;
  readonly users: number;
  readonly subscriptions: number;
  readonly connectFailed: number;
  /** From the first connection attempt to the last `ready`, s. */
  readonly connectSeconds: number;
  /** Seconds spent making users (api sign-up), not part of connect time. */
  readonly signupSeconds: number;
  /** Delivery latency over every receipt. */
  readonly latency: LatencyFigures;
  /** fanout: per message, the time until its last receiver had it (over messages). */
  readonly lastReceiver: LatencyFigures | undefined;
  readonly posts: {
    readonly attempted: number;
    readonly ok: number;
    readonly failed: number;
    readonly skipped: number;
    /** Acknowledged posts per second over the posting time. */
    readonly perSecond: number;
    readonly latency: LatencyFigures;
  };
  readonly delivered: number;
  readonly expected: number;
  /** Σ seq × fan-out matched for every poster (no message swapped for a duplicate). */
  readonly checksumOk: boolean;
  /** ingest: rows in the store after the run (undefined when not counted). */
  readonly persisted: number | undefined;
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  readonly errorSamples: readonly string[];
  readonly server: ServerFigures;
  /** CPU seconds the load processes used while the workload ran (is the load generator the limit?). */
  readonly loadGenCpuS: number;
  /** Presence and typing figures (fanout/chat with --presence, join-storm, typing). */
  readonly ephemeral?: EphemeralFigures;
}

export interface BenchResult {
  readonly startedAt: string;
  readonly commit: string;
  readonly node: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly ramGiB: number };
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly command: string;
  readonly note: string;
  readonly params: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly runs: readonly RunFigures[];
  /** baseline: Parley / bare for last-receiver p50 and delivery p99. */
  readonly ratio: { readonly lastReceiverP50: number; readonly latencyP99: number } | undefined;
}
