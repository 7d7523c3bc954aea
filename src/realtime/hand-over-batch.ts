/**
 * Batched hand-over: live messages reach their readers once the current burst of dispatches is
 * over, and one microtask runs every hand-over due (a fan-out to 10,000 streams schedules one
 * job, not 10,000). One batch per Hub (hub.ts owns it), so two apps in one process keep apart.
 */

/** A stream with messages to hand over to its reader. */
export interface HandOver {
  /** The batch's call, once per scheduling, a microtask after the burst. */
  handOver(): void;
}

export class HandOverBatch {
  /** Hand-overs due after the current burst of dispatches. */
  #due: HandOver[] = [];

  readonly #run = (): void => {
    const batch = this.#due;
    this.#due = [];
    for (const stream of batch) stream.handOver();
  };

  /**
   * Calls `stream.handOver()` once the current burst of dispatches is over (a microtask later),
   * in the order streams were scheduled. The caller schedules a stream at most once until it runs.
   */
  schedule(stream: HandOver): void {
    if (this.#due.length === 0) queueMicrotask(this.#run);
    this.#due.push(stream);
  }
}
