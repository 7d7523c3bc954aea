/**
 * The unread live items of one stream (messages, and read frames on direct-message streams): a
 * bounded FIFO that, past its bound, refuses what follows and stays overflowed.
 *
 * Memory: a LiveStream holds a queue only while messages wait unread or after an overflow, and
 * drops it once it is read empty, so an idle stream holds none. The oldest message sits in a
 * field rather than an array: the usual hand-over (one message buffered for a microtask, then
 * read) allocates this one small object and nothing else, as the shared-empty-array buffer it
 * replaces allocated one `[message]` array. Only a second waiting message allocates an array.
 */
const NO_ITEMS: readonly unknown[] = Object.freeze([]);

/** Unread items, in arrival order, each handed out once, at most `limit` at a time (see enqueue). */
export class UnreadQueue<T> {
  /** The oldest unread item; undefined exactly when none waits. */
  #oldest: T | undefined = undefined;
  /** The unread items after #oldest, from #head on; the shared empty array while there are none. */
  #later: T[] = NO_ITEMS as T[];
  #head = 0;
  #overflowed = false;

  /** Whether a message was refused for want of room; the queue then takes nothing more. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Whether messages wait to be read. */
  get hasUnread(): boolean {
    return this.#oldest !== undefined;
  }

  /**
   * Appends `message` while fewer than `limit` wait unread and returns true; else marks the
   * queue overflowed, drops the message and returns false. Call only while not overflowed.
   */
  enqueue(message: T, limit: number): boolean {
    const unread = this.#oldest === undefined ? 0 : 1 + this.#later.length - this.#head;
    if (unread >= limit) {
      this.#overflowed = true;
      return false;
    }
    if (this.#oldest === undefined) this.#oldest = message;
    else if (this.#later === NO_ITEMS) this.#later = [message];
    else this.#later.push(message);
    return true;
  }

  /** The oldest unread message, now read; undefined when none waits. */
  shift(): T | undefined {
    const message = this.#oldest;
    const later = this.#later;
    if (this.#head === later.length) {
      this.#oldest = undefined;
      return message;
    }
    this.#oldest = later[this.#head++];
    if (this.#head === later.length) {
      this.#later = NO_ITEMS as T[];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > later.length) {
      // Lets go of the read half of a long backlog instead of keeping it until the queue empties.
      this.#later = later.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }

  /** Drops every unread message (the overflow mark stays). */
  clear(): void {
    this.#oldest = undefined;
    this.#later = NO_ITEMS as T[];
    this.#head = 0;
  }
}
