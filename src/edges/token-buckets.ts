/** Token buckets with one rate, one per key: the arithmetic under every rate limit. */

/** A sustained rate and the burst a full bucket allows. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Keys past which a new key first forgets buckets that have refilled (they equal a fresh one), at most once a second. */
const SWEEP_AT = 100_000;
/** Keys never exceed this (the oldest is dropped): memory stays bounded under a flood of distinct addresses. */
const MAX_KEYS = 200_000;

/** Buckets of one rate; a bucket idle long enough to be full again is forgotten (it would start full anyway). */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  #sweptAtMs = -Infinity;

  constructor(private readonly rate: Rate) {}

  /** Takes one token from `key`'s bucket at time `now` (ms); returns 0 when allowed, else the whole seconds until one is available. */
  take(key: string, now: number): number {
    const { perSecond, burst } = this.rate;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= SWEEP_AT && now - this.#sweptAtMs >= 1000) this.#sweep(now);
      if (this.#buckets.size >= MAX_KEYS) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = { tokens: burst, updatedMs: now };
      this.#buckets.set(key, bucket);
    }
    // A clock that steps back adds nothing (and takes nothing).
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = Math.max(now, bucket.updatedMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }

  /** How many keys are remembered (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    this.#sweptAtMs = now;
    const refillMs = (this.rate.burst / this.rate.perSecond) * 1000;
    for (const [key, b] of this.#buckets) if (now - b.updatedMs > refillMs) this.#buckets.delete(key);
  }
}
