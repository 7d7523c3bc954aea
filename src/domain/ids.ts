/**
 * Snowflake ids: 64-bit, time-ordered, unique across nodes.
 *
 *   41 bits  milliseconds since PARLEY_EPOCH (good until 2094)
 *   10 bits  worker id (0–1023), unique per running process
 *   12 bits  sequence within one millisecond (4096 ids/ms/worker)
 *
 * At the API ids are decimal strings (JSON cannot carry 64-bit integers exactly).
 */

/** 2025-01-01T00:00:00Z: ids stay small and positive for decades. */
export const PARLEY_EPOCH_MS = 1_735_689_600_000n;
const WORKER_BITS = 10n;
const SEQUENCE_BITS = 12n;
const MAX_SEQUENCE = (1n << SEQUENCE_BITS) - 1n;
const MAX_WORKER = (1 << Number(WORKER_BITS)) - 1;

/** Issues strictly increasing ids for one worker, even when the wall clock steps back. */
export class SnowflakeGenerator {
  readonly #worker: bigint;
  #lastMs = -1n;
  #sequence = 0n;

  constructor(workerId: number, private readonly now: () => number = Date.now) {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER) {
      throw new RangeError(`worker id must be an integer in 0..${MAX_WORKER}, got ${workerId}`);
    }
    this.#worker = BigInt(workerId);
  }

  /** Returns a new id, greater than every id this generator returned before. */
  next(): string {
    let ms = BigInt(this.now()) - PARLEY_EPOCH_MS;
    // A clock that steps back must not reorder ids: keep using the last millisecond.
    if (ms < this.#lastMs) ms = this.#lastMs;
    if (ms === this.#lastMs) {
      this.#sequence = (this.#sequence + 1n) & MAX_SEQUENCE;
      // Sequence exhausted within this millisecond: borrow the next one.
      if (this.#sequence === 0n) ms = this.#lastMs + 1n;
    } else {
      this.#sequence = 0n;
    }
    this.#lastMs = ms;
    return ((ms << (WORKER_BITS + SEQUENCE_BITS)) | (this.#worker << SEQUENCE_BITS) | this.#sequence).toString();
  }
}

/** Milliseconds since the Unix epoch at which the id was issued. */
export function idTimeMs(id: string): number {
  return Number((BigInt(id) >> (WORKER_BITS + SEQUENCE_BITS)) + PARLEY_EPOCH_MS);
}

/** The smallest id that could be issued at the given Unix time in ms (a range bound for queries). */
export function minIdAt(timeMs: number): string {
  const ms = BigInt(Math.max(0, Math.floor(timeMs))) - PARLEY_EPOCH_MS;
  return (ms < 0n ? 0n : ms << (WORKER_BITS + SEQUENCE_BITS)).toString();
}

/** Orders two decimal id strings numerically: negative, zero or positive like a comparator. */
export function compareIds(a: string, b: string): number {
  // Same-length decimal strings without leading zeros order like numbers; cheaper than BigInt.
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Length of a time bucket of messages: one day (see DESIGN.md, "Cassandra"). */
export const BUCKET_MS = 24 * 3600 * 1000;

/** The time bucket a message id falls in; partitions of the scale-out store are keyed by it. */
export function bucketOf(id: string): number {
  return Math.floor((idTimeMs(id) - Number(PARLEY_EPOCH_MS)) / BUCKET_MS);
}
