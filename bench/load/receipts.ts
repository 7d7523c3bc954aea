/**
 * Everything a load process counts about what its subscriptions received: bench messages per
 * origin (count and Σ seq, to compare with what posters sent), delivery latency, the latest
 * receipt of each fan-out message, heartbeats, presence frames, typing frames with their
 * delivery latency, and errors by kind. One instance per process, fed by every client;
 * recording a message receipt allocates nothing (a typing frame's JSON `until` is one string).
 */
import { Histogram } from "../histogram.js";
import { type Marker, nowUs, readMarker, readMarkerText } from "../marker.js";
import type { StatsResult } from "./protocol.js";

const MAX_SAMPLES = 8;
/** The server shows a typing frame until `until` = its Date.now() at the SetTyping call + this (src/services/typing.ts TYPING_TTL_MS). */
export const TYPING_TTL_MS = 6_000;
const UNTIL_JSON = Buffer.from('"until":"');
/** Fan-out runs post at most this many messages per origin; later seqs are not tracked per message. */
const MAX_TRACKED_SEQ = 100_000;

export class Receipts {
  readonly latency = new Histogram();
  readonly #byOrigin = new Map<number, { count: number; checksum: number }>();
  readonly #lastBySeq = new Map<number, Float64Array>();
  readonly #errors = new Map<string, number>();
  readonly #samples: string[] = [];
  readonly #marker: Marker = { origin: 0, seq: 0, sentUs: 0 };
  /** Typing delivery latency, µs. */
  readonly typingLatency = new Histogram();
  received = 0;
  heartbeats = 0;
  open = 0;
  /** Presence frames: a run-long count, kept by reset() (the snapshots arrive while connecting, before any warm-up reset). */
  presenceFrames = 0;
  typingFrames = 0;
  /**
   * Presence lag: from a user's connection attempt (in this process) to the first presence frame
   * listing them as joined on this process's observer stream (its first connection), µs. Users
   * a frame leaves out (more than 100 joins in a batch: `truncated`) are never measured.
   */
  readonly presenceLag = new Histogram();
  readonly #attemptAt = new Map<string, number>();
  readonly #seenJoined = new Set<string>();

  /** Records every bench marker in a received frame (bytes, or its `[start, end)`); returns how many it held. */
  bytes(frame: Buffer, start = 0, end = frame.length): number {
    const at = nowUs();
    let found = 0;
    let from = start;
    while ((from = readMarker(frame, this.#marker, from, end)) >= 0) {
      this.#record(at);
      found++;
    }
    return found;
  }

  /** Records the marker in one decoded message text; false when it has none. */
  text(text: string): boolean {
    if (!readMarkerText(text, this.#marker)) return false;
    this.#record(nowUs());
    return true;
  }

  #record(at: number): void {
    const { origin, seq, sentUs } = this.#marker;
    const latency = at - sentUs;
    this.received++;
    this.latency.record(latency);
    let o = this.#byOrigin.get(origin);
    if (!o) this.#byOrigin.set(origin, (o = { count: 0, checksum: 0 }));
    o.count++;
    o.checksum += seq;
    if (seq < MAX_TRACKED_SEQ) {
      let last = this.#lastBySeq.get(origin);
      if (!last) this.#lastBySeq.set(origin, (last = new Float64Array(MAX_TRACKED_SEQ)));
      if (latency > last[seq]!) last[seq] = latency;
    }
  }

  /**
   * Records a typing frame whose `until` is `untilMs` (the server's wall clock). The server sets
   * until = its Date.now() + TYPING_TTL_MS when the call arrives, and it shares this machine's
   * clock, so receipt − (until − TTL) is the delivery latency (ms resolution, the server's).
   */
  typing(untilMs: number): void {
    this.typingFrames++;
    if (!Number.isFinite(untilMs) || untilMs <= 0) return this.error("unexpected_frame", "typing frame without until");
    this.typingLatency.record(Math.max(0, (Date.now() - (untilMs - TYPING_TTL_MS)) * 1000));
  }

  /** Records the typing frame in JSON bytes (WebSocket, SSE): its `"until":"<RFC 3339>"`. */
  typingJson(bytes: Buffer, from = 0, end = bytes.length): void {
    const at = bytes.indexOf(UNTIL_JSON, from);
    const start = at + UNTIL_JSON.length;
    const close = at < 0 || at >= end ? -1 : bytes.indexOf(0x22, start);
    this.typing(close < 0 || close > end ? Number.NaN : Date.parse(bytes.toString("latin1", start, close)));
  }

  /** A connection of `userId` is being attempted now (the start of its presence lag). */
  attempting(userId: string): void {
    if (!this.#attemptAt.has(userId)) this.#attemptAt.set(userId, performance.now());
  }

  /** The observer stream's presence frame (not its snapshot) listed these users as joined. */
  joined(userIds: Iterable<string>): void {
    const now = performance.now();
    for (const id of userIds) {
      const at = this.#attemptAt.get(id);
      if (at === undefined || this.#seenJoined.has(id)) continue;
      this.#seenJoined.add(id);
      this.presenceLag.record((now - at) * 1000);
    }
  }

  /** The same for the observer's presence frame as chat.v1.Presence proto JSON (WebSocket, SSE). */
  joinedJson(presence: unknown): void {
    const p = presence as { snapshot?: boolean; joined?: readonly { userId?: string }[] } | undefined;
    if (!p || p.snapshot) return;
    this.joined((p.joined ?? []).flatMap((sender) => (sender.userId ? [sender.userId] : [])));
  }

  /** Counts an error of a kind, keeping the first few messages as samples. */
  error(kind: string, detail?: unknown): void {
    this.#errors.set(kind, (this.#errors.get(kind) ?? 0) + 1);
    if (this.#samples.length < MAX_SAMPLES) {
      const text = detail instanceof Error ? detail.message : detail === undefined ? "" : String(detail);
      this.#samples.push(`${kind}: ${text}`.slice(0, 300));
    }
  }

  reset(): void {
    this.latency.reset();
    this.#byOrigin.clear();
    this.#lastBySeq.clear();
    this.#errors.clear();
    this.#samples.length = 0;
    this.received = 0;
    this.heartbeats = 0;
    this.typingLatency.reset();
    this.typingFrames = 0;
  }

  stats(lastOf: number | undefined): Omit<StatsResult, "op"> {
    const lastBySeq: [number, number][] = [];
    const last = lastOf === undefined ? undefined : this.#lastBySeq.get(lastOf);
    if (last) for (let seq = 0; seq < last.length; seq++) if (last[seq]! > 0) lastBySeq.push([seq, last[seq]!]);
    return {
      open: this.open,
      received: this.received,
      byOrigin: Object.fromEntries(this.#byOrigin),
      latency: this.latency.toData(),
      lastBySeq,
      heartbeats: this.heartbeats,
      presenceFrames: this.presenceFrames,
      typingFrames: this.typingFrames,
      typingLatency: this.typingLatency.toData(),
      presenceLag: this.presenceLag.toData(),
      errors: Object.fromEntries(this.#errors),
      samples: [...this.#samples],
    };
  }
}
