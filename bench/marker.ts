/**
 * The bench's message text: "@@b<origin>.<seq>.<sentUs>." padded to the wanted size. The send
 * time is CLOCK_MONOTONIC in µs (process.hrtime), which every process on one machine shares, so
 * a receiver computes the delivery latency without clock skew. Receivers find the marker in
 * whatever bytes arrive (JSON, protobuf, SSE text) without decoding the frame.
 */

const PREFIX = "@@b";
const PREFIX_BYTES = Buffer.from(PREFIX);
const DOT = 0x2e;
const ZERO = 0x30;
const SCRATCH = new Float64Array(3);

/** Now on the shared monotonic clock, in µs. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The text of one bench message; `size` is the total length in characters (at least the marker). */
export function markerText(origin: number, seq: number, sentUs: number, size: number): string {
  const head = `${PREFIX}${origin}.${seq}.${sentUs}.`;
  return head.length >= size ? head : head + "x".repeat(size - head.length);
}

/** A marker found in received bytes. */
export interface Marker {
  origin: number;
  seq: number;
  sentUs: number;
}

/**
 * Reads the first marker lying wholly in `bytes[from, end)` into `out` (reused, no allocation);
 * returns the index just past it, or -1 when there is none.
 */
export function readMarker(bytes: Buffer, out: Marker, from = 0, end = bytes.length): number {
  const at = bytes.indexOf(PREFIX_BYTES, from);
  if (at < 0 || at + PREFIX_BYTES.length > end) return -1;
  let i = at + PREFIX_BYTES.length;
  const fields = SCRATCH;
  for (let f = 0; f < 3; f++) {
    let value = 0;
    let digits = 0;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c === DOT) break;
      if (c < ZERO || c > ZERO + 9) return -1;
      value = value * 10 + (c - ZERO);
      digits++;
    }
    if (digits === 0 || i >= end) return -1;
    fields[f] = value;
    i++;
  }
  out.origin = fields[0]!;
  out.seq = fields[1]!;
  out.sentUs = fields[2]!;
  return i;
}

/** The same as readMarker for a decoded string (gRPC / Connect clients hand out text). */
export function readMarkerText(text: string, out: Marker): boolean {
  const at = text.indexOf(PREFIX);
  if (at < 0) return false;
  const parts = text.slice(at + PREFIX.length).split(".", 3);
  if (parts.length < 3) return false;
  out.origin = Number(parts[0]);
  out.seq = Number(parts[1]);
  out.sentUs = Number(parts[2]);
  return Number.isFinite(out.origin) && Number.isFinite(out.seq) && Number.isFinite(out.sentUs);
}
