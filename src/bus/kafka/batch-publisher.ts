/**
 * Group commit for publishes: records queued in the same tick — and while the previous batch is
 * still on its way to Kafka — go out together in one request. Exactly one batch is in flight at a
 * time and batches leave in queue order, so records with the same key keep their publish order
 * (Kafka keeps the order of one producer's records within a partition).
 *
 * Each publish() resolves when the batch holding it was acknowledged, or rejects with the error
 * that batch failed with, or with `errors.timeout()` once `timeoutMs` has passed — the record may
 * then still be delivered later (the batch keeps retrying). A full queue rejects at once rather
 * than buffering without bound while Kafka is down.
 */

/** One record ready for Kafka. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
}

/** Sends one batch in order; resolves when every record in it was acknowledged. */
export type SendBatch = (records: readonly OutgoingRecord[]) => Promise<void>;

export interface BatchLimits {
  /** Most records in one request. */
  readonly maxBatch: number;
  /** Most records waiting (queued + in flight) before publish() refuses. */
  readonly maxQueued: number;
  /** Longest a caller waits for the acknowledgement. */
  readonly timeoutMs: number;
}

/** The errors callers see when the queue is full or their record was not acknowledged in time. */
export interface BatchErrors {
  overflow(): Error;
  timeout(): Error;
}

interface Pending {
  readonly record: OutgoingRecord;
  settle(error?: unknown): void;
}

export class BatchPublisher {
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #draining: Promise<void> | undefined;

  constructor(
    private readonly send: SendBatch,
    private readonly limits: BatchLimits,
    private readonly errors: BatchErrors,
  ) {}

  /** Queues a record; resolves once Kafka acknowledged it. */
  publish(record: OutgoingRecord): Promise<void> {
    if (this.#queue.length + this.#inFlight >= this.limits.maxQueued) return Promise.reject(this.errors.overflow());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.errors.timeout()), this.limits.timeoutMs);
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#queue.push({ record, settle });
      // setImmediate: everything published in this tick joins the first batch.
      this.#draining ??= new Promise<void>((done) => setImmediate(() => void this.#drain().finally(done)));
    });
  }

  /** Resolves when every record queued so far has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.limits.maxBatch);
        this.#inFlight = batch.length;
        try {
          await this.send(batch.map((p) => p.record));
          for (const p of batch) p.settle();
        } catch (error) {
          for (const p of batch) p.settle(error ?? new Error("send failed"));
        } finally {
          this.#inFlight = 0;
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
