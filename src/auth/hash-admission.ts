/**
 * Admission control for password hashing. scrypt is the one thing a stranger can make a node do
 * that costs ~100 ms of a core, so hashes run at most `concurrency` at a time, at most `queue`
 * more wait their turn in arrival order, and anything beyond is refused at once with
 * RESOURCE_EXHAUSTED (HTTP 429) and a Retry-After from the measured hash time. The queue's bound
 * is the bound on a sign-in's wait, whoever floods: ~(queue / concurrency + 1) hash times.
 *
 * Why 429 and not 503/UNAVAILABLE: it is gRPC's code for "out of a resource" (flow control,
 * quotas), clients already handle it with Retry-After for the rate limits, it is not a server
 * fault (no error-level logs under attack), and gRPC clients do not retry it transparently — a
 * retry storm against a saturated hasher is what this exists to prevent.
 */
import { ResourceExhaustedError } from "../domain/errors.js";

/** What a hash costs before any is measured (a 2-core machine, N=2^15: ~100 ms). */
const INITIAL_HASH_MS = 100;

/** Runs password hashes under the bounds above. One per process, shared by sign-up and sign-in. */
export class HashAdmission {
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  #hashMs = INITIAL_HASH_MS;

  constructor(
    readonly concurrency: number,
    readonly queue: number,
    private readonly onRefused: () => void = () => undefined,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("hash concurrency must be a positive integer");
    if (!Number.isInteger(queue) || queue < 0) throw new RangeError("hash queue must be a non-negative integer");
  }

  /** Runs `hash` when a slot is free; throws ResourceExhaustedError at once when the queue is full. */
  async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency) this.#running++;
    else if (this.#waiting.length < this.queue) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else {
      this.onRefused();
      const seconds = this.#retryAfterSeconds();
      throw new ResourceExhaustedError(`too many sign-ins in progress: retry in ${seconds}s`, seconds);
    }
    // Here this call holds a slot (a waiter inherits the slot of the hash that finished).
    const started = performance.now();
    try {
      return await hash();
    } finally {
      this.#hashMs = 0.8 * this.#hashMs + 0.2 * (performance.now() - started);
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Hashes running and waiting (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** When the queue ahead should have drained. */
  #retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((((this.#waiting.length + this.#running) / this.concurrency) * this.#hashMs) / 1000));
  }
}
