/** Token buckets with one rate, one per key: the arithmetic under every rate limit. */

/** A sustained rate and the burst a full bucket allows. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * Buckets of one rate, however they are kept: in this process (TokenBuckets), or leased from
 * the node's primary (cluster/node-buckets.ts). `take` answers 0 when the call may go on, else
 * the whole seconds until it may — at once, or once the primary has answered.
 */
export interface Buckets {
  take(key: string, now: number): number | Promise<number>;
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
export class TokenBuckets implements Buckets {
  readonly #buckets = new Map<string, Bucket>();
  #sweptAtMs = -Infinity;

  constructor(private readonly rate: Rate) {}

  /** Takes one token from `key`'s bucket at time `now` (ms); returns 0 when allowed, else the whole seconds until one is available. */
  take(key: string, now: number): number {
    return this.takeUpTo(key, 1, now).retryAfterSeconds;
  }

  /**
   * Takes up to `want` whole tokens from `key`'s bucket at time `now` (ms): as many as it holds.
   * When it holds none, `granted` is 0 and `retryAfterSeconds` the whole seconds until one is
   * available (else 0). How a node's workers share one bucket: cluster/node-buckets.ts.
   */
  takeUpTo(key: string, want: number, now: number): { granted: number; retryAfterSeconds: number } {
    const { perSecond } = this.rate;
    const bucket = this.#refilled(key, now);
    const granted = Math.min(Math.max(1, Math.floor(want)), Math.floor(bucket.tokens));
    if (granted >= 1) {
      bucket.tokens -= granted;
      return { granted, retryAfterSeconds: 0 };
    }
    return { granted: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  /** Puts back tokens taken and not spent (never above the burst). */
  giveBack(key: string, tokens: number, now: number): void {
    const bucket = this.#refilled(key, now);
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + Math.max(0, tokens));
  }

  /** `key`'s bucket as it stands at `now`, remembered from here on. */
  #refilled(key: string, now: number): Bucket {
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
    return bucket;
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
