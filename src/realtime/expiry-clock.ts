/**
 * Deadlines for many objects on one timer: each entry's expire() is called once its time has
 * come (never before it, and as soon after it as the event loop allows), unless it was removed
 * first. One timer for the earliest deadline instead of one per entry: a timer per open stream
 * costs more than the stream's other bookkeeping, and every distinct delay makes its own timer
 * list. The timer never keeps the process alive.
 */

/** Something with a deadline. `clockSlot` belongs to the clock: start it at -1 and leave it alone. */
export interface Expiring {
  readonly expiresAtMs: number;
  clockSlot: number;
  /** Called once the deadline has passed; must not throw. */
  expire(): void;
}

/** setTimeout cannot wait longer (~24.8 days); a later deadline re-arms on wake-up. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class ExpiryClock {
  /** A binary min-heap by expiresAtMs; each entry knows its index (clockSlot). */
  readonly #heap: Expiring[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedForMs = Infinity;

  /** Schedules entry.expire() at entry.expiresAtMs (now, asynchronously, when that has passed). */
  add(entry: Expiring): void {
    if (entry.clockSlot >= 0) return;
    entry.clockSlot = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.clockSlot);
    this.#arm();
  }

  /** Cancels an entry's deadline; a no-op when it is not scheduled. */
  remove(entry: Expiring): void {
    const slot = entry.clockSlot;
    if (slot < 0 || this.#heap[slot] !== entry) return;
    entry.clockSlot = -1;
    const last = this.#heap.pop()!;
    if (last !== entry) {
      this.#heap[slot] = last;
      last.clockSlot = slot;
      this.#down(slot);
      this.#up(last.clockSlot);
    }
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Entries waiting (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  #arm(): void {
    const next = this.#heap[0];
    if (next === undefined) return this.#disarm();
    if (this.#timer !== undefined && this.#armedForMs <= next.expiresAtMs) return;
    this.#disarm();
    this.#armedForMs = next.expiresAtMs;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_DELAY_MS, Math.max(0, next.expiresAtMs - Date.now())));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedForMs = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedForMs = Infinity;
    const now = Date.now();
    for (let next = this.#heap[0]; next !== undefined && next.expiresAtMs <= now; next = this.#heap[0]) {
      this.remove(next);
      next.expire();
    }
    this.#arm();
  }

  #up(slot: number): void {
    const heap = this.#heap;
    const entry = heap[slot]!;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (heap[parent]!.expiresAtMs <= entry.expiresAtMs) break;
      heap[slot] = heap[parent]!;
      heap[slot]!.clockSlot = slot;
      slot = parent;
    }
    heap[slot] = entry;
    entry.clockSlot = slot;
  }

  #down(slot: number): void {
    const heap = this.#heap;
    const entry = heap[slot]!;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.expiresAtMs < heap[child]!.expiresAtMs) child++;
      if (heap[child]!.expiresAtMs >= entry.expiresAtMs) break;
      heap[slot] = heap[child]!;
      heap[slot]!.clockSlot = slot;
      slot = child;
    }
    heap[slot] = entry;
    entry.clockSlot = slot;
  }
}
