/**
 * What the coordinator (bench/run.ts) and its load processes (bench/load/worker.ts) say to each
 * other over the IPC channel. Every request carries an id; the worker answers it once with the
 * same id. Progress notes (no id) may come at any time.
 */
import type { HistogramData } from "../histogram.js";

/** How clients subscribe: one WebSocket per subscription, one multiplexed WebSocket per user,
 * a gRPC (h2c) stream, a Connect server stream over HTTP/1.1, SSE, or the bare ws baseline. */
export type Via = "ws" | "ws-mux" | "grpc" | "connect" | "sse" | "bare";
export const VIAS: readonly Via[] = ["ws", "ws-mux", "grpc", "connect", "sse", "bare"];
export type PostVia = "grpc" | "ws";

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** One simulated user as a load process sees it. */
export interface LoadUser {
  readonly id: string;
  readonly token: string;
  /** The room the user subscribes to and posts in (chat, fanout). */
  readonly roomId: string | undefined;
  /** How many users subscribe to that room (the fan-out of a post to it). */
  readonly roomSize: number;
}

export interface ConnectRequest {
  readonly op: "connect";
  readonly target: Target;
  readonly via: Via;
  readonly users: readonly LoadUser[];
  readonly room: boolean;
  readonly dm: boolean;
  /** Source addresses to spread client sockets over (round-robin). */
  readonly localAddresses: readonly string[];
  /** Most connection attempts in flight at once in this process. */
  readonly concurrency: number;
  /** Room streams ask for presence frames (--presence, join-storm). */
  readonly presence: boolean;
  /**
   * Open the connections at an even pace over this many ms (join-storm) instead of as fast as
   * `concurrency` allows: connection i starts no earlier than i × spreadMs / connections.
   */
  readonly spreadMs?: number;
}

export interface ChatPostRequest {
  readonly op: "chat";
  readonly target: Target;
  /** Id of this poster in the markers it sends (unique per process). */
  readonly origin: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** Share of posts that are direct messages (0..1), the rest go to the poster's room. */
  readonly dmShare: number;
  /** Post over gRPC (h2c, a few shared connections), or over each user's own /ws socket. */
  readonly postVia: PostVia;
  /** Every user id of the run, to pick DM recipients from. */
  readonly allUserIds: readonly string[];
  readonly textSize: number;
  /** Most posts in flight; past it a tick's posts are counted as `skipped` (the poster fell behind). */
  readonly maxInFlight: number;
  readonly localAddresses: readonly string[];
}

export interface IngestRequest {
  readonly op: "ingest";
  readonly target: Target;
  readonly origin: number;
  /** One closed-loop poster per user, each posting to its own room. */
  readonly users: readonly LoadUser[];
  readonly durationMs: number;
  readonly textSize: number;
  readonly localAddresses: readonly string[];
}

export interface StatsRequest {
  readonly op: "stats";
  /** Include the per-message last-delivery times of this origin (fan-out). */
  readonly lastOf?: number;
}

export type Request =
  | ConnectRequest
  | ChatPostRequest
  | IngestRequest
  | StatsRequest
  | { readonly op: "reset" }
  | { readonly op: "close" };

export interface ConnectResult {
  readonly op: "connect";
  readonly subscriptions: number;
  readonly failed: number;
  /** From the first attempt to the last `ready`, ms. */
  readonly elapsedMs: number;
  /** Each connection's time from its attempt to its last `ready`, µs. */
  readonly openLatency: HistogramData;
}

/** What a poster sent: enough for the coordinator to know exactly what receivers must see. */
export interface PostResult {
  readonly op: "posted";
  readonly origin: number;
  readonly attempted: number;
  readonly ok: number;
  readonly failed: number;
  /** Ticks' posts not sent because maxInFlight was reached. */
  readonly skipped: number;
  /** Deliveries the accepted posts must cause, and Σ seq × fan-out over them (a checksum). */
  readonly expectedDeliveries: number;
  readonly expectedChecksum: number;
  /** Post round trip, µs. */
  readonly postLatency: HistogramData;
  readonly elapsedMs: number;
  readonly errors: Readonly<Record<string, number>>;
}

export interface StatsResult {
  readonly op: "stats";
  /** Subscriptions open (ready and not ended). */
  readonly open: number;
  /** Bench messages received, over every subscription. */
  readonly received: number;
  /** Per origin: deliveries and Σ seq. */
  readonly byOrigin: Readonly<Record<number, { count: number; checksum: number }>>;
  /** Delivery latency over every receipt, µs. */
  readonly latency: HistogramData;
  /** For `lastOf`: seq → latest receipt latency in this process (µs). */
  readonly lastBySeq: ReadonlyArray<readonly [seq: number, latencyUs: number]>;
  readonly heartbeats: number;
  /** Presence frames received (snapshots included), over every subscription; not cleared by `reset`. */
  readonly presenceFrames: number;
  /** Typing frames received, and their delivery latency (µs, wall clock: receipt − (until − TYPING_TTL)). */
  readonly typingFrames: number;
  readonly typingLatency: HistogramData;
  /** Each user's connection attempt → the first presence frame listing them on the process's observer stream, µs. */
  readonly presenceLag: HistogramData;
  readonly errors: Readonly<Record<string, number>>;
  /** A few error messages, for the report. */
  readonly samples: readonly string[];
}

export type Reply =
  | (ConnectResult & { readonly id: number })
  | (PostResult & { readonly id: number })
  | (StatsResult & { readonly id: number })
  | { readonly op: "ok"; readonly id: number }
  | { readonly op: "failed"; readonly id: number; readonly message: string };

export interface Progress {
  readonly op: "progress";
  readonly connected: number;
  readonly received: number;
  readonly posted: number;
}
