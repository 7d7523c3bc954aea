/**
 * Everything a load process counts about what its subscriptions received: bench messages per
 * origin (count and Σ seq, to compare with what posters sent), delivery latency, the latest
 * receipt of each fan-out message, heartbeats and errors by kind. One instance per process,
 * fed by every client; recording a receipt allocates nothing.
 */
import { Histogram } from "../histogram.js";
import { type Marker, nowUs, readMarker, readMarkerText } from "../marker.js";
import type { StatsResult } from "./protocol.js";

const MAX_SAMPLES = 8;
/** Fan-out runs post at most this many messages per origin; later seqs are not tracked per message. */
const MAX_TRACKED_SEQ = 100_000;

export class Receipts {
  readonly latency = new Histogram();
  readonly #byOrigin = new Map<number, { count: number; checksum: number }>();
  readonly #lastBySeq = new Map<number, Float64Array>();
  readonly #errors = new Map<string, number>();
  readonly #samples: string[] = [];
  readonly #marker: Marker = { origin: 0, seq: 0, sentUs: 0 };
  received = 0;
  heartbeats = 0;
  open = 0;

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
      errors: Object.fromEntries(this.#errors),
      samples: [...this.#samples],
    };
  }
}
