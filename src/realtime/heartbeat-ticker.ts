/**
 * One timer for every idle stream that shares a heartbeat period, instead of a timer set and
 * cleared on every wait: a stream registers once for its lifetime, marks itself idle while it
 * waits (two field writes), and the ticker wakes each stream that has been idle for at least the
 * period — at most 1.5 periods after it went idle. The timer runs only while streams are
 * registered and never keeps the process alive. The tickers of one Hub (hub.ts owns them) are
 * shared by its streams, per period.
 */

/** What the ticker watches: since when a stream has been idle, and how to wake it. */
export interface Idler {
  /** Date.now() when the stream started waiting; undefined while it is busy. */
  readonly idleSinceMs: number | undefined;
  /** Ends the stream's current wait. */
  wake(): void;
}

/** Timer jitter tolerated when deciding that a stream has been idle for a whole period. */
export const HEARTBEAT_SLACK_MS = 5;

/** The tickers of one Hub, one per heartbeat period. */
export class HeartbeatTickers {
  readonly #byPeriod = new Map<number, HeartbeatTicker>();

  /** The ticker shared by every stream of this hub with this heartbeat period. */
  for(periodMs: number): HeartbeatTicker {
    let ticker = this.#byPeriod.get(periodMs);
    if (!ticker) this.#byPeriod.set(periodMs, (ticker = new HeartbeatTicker(periodMs)));
    return ticker;
  }
}

export class HeartbeatTicker {
  readonly #idlers = new Set<Idler>();
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly periodMs: number) {}

  /** Watches a stream until remove(); wakes it whenever it has been idle for a period. */
  add(idler: Idler): void {
    this.#idlers.add(idler);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(this.periodMs / 2)));
      this.#timer.unref();
    }
  }

  remove(idler: Idler): void {
    this.#idlers.delete(idler);
    if (this.#idlers.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Streams watched now (for tests). */
  get size(): number {
    return this.#idlers.size;
  }

  #tick(): void {
    const due = Date.now() - this.periodMs + HEARTBEAT_SLACK_MS;
    for (const idler of this.#idlers) {
      const since = idler.idleSinceMs;
      if (since !== undefined && since <= due) idler.wake();
    }
  }
}
