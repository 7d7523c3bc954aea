/**
 * A mergeable latency histogram for microsecond values: exact below 64 µs, then 64 buckets per
 * power of two (≤ 1.6 % relative error), up to ~35 minutes. Fixed size, no allocation per
 * record, so load processes can record millions of deliveries and ship the counts to the
 * coordinator, which merges them.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = (32 - SUB_BITS) * SUB;

/** Counts per bucket, in the form a load process sends over IPC (non-zero buckets only). */
export interface HistogramData {
  readonly buckets: ReadonlyArray<readonly [index: number, count: number]>;
  readonly count: number;
  readonly max: number;
  readonly sum: number;
}

function bucketOf(value: number): number {
  const v = value <= 0 ? 0 : value >= 2 ** 31 - 1 ? 2 ** 31 - 1 : Math.floor(value);
  if (v < SUB) return v;
  const exponent = 31 - Math.clz32(v);
  return (exponent - SUB_BITS + 1) * SUB + ((v >>> (exponent - SUB_BITS)) & (SUB - 1));
}

/** The smallest value that falls in a bucket (the value reported for a percentile). */
function lowestOf(index: number): number {
  if (index < SUB) return index;
  const exponent = Math.floor(index / SUB) + SUB_BITS - 1;
  return (SUB + (index % SUB)) * 2 ** (exponent - SUB_BITS);
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;
  #sum = 0;

  /** Records one value (µs). Negative values count as 0. */
  record(value: number): void {
    this.#counts[bucketOf(value)]! += 1;
    this.#count++;
    this.#sum += value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** The mean of recorded values, 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** The value at quantile q (0..1): the lower bound of its bucket; the exact max for q = 1. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    if (q >= 1) return this.#max;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(lowestOf(i), this.#max);
    }
    return this.#max;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: HistogramData): void {
    for (const [index, count] of other.buckets) this.#counts[index]! += count;
    this.#count += other.count;
    this.#sum += other.sum;
    if (other.max > this.#max) this.#max = other.max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
    this.#sum = 0;
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.#count, max: this.#max, sum: this.#sum };
  }

  static from(data: readonly HistogramData[]): Histogram {
    const h = new Histogram();
    for (const d of data) h.merge(d);
    return h;
  }
}
