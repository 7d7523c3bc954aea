/**
 * A bounded FIFO between the hub (which pushes synchronously, never waiting) and one stream's
 * writer (which pulls as fast as its client reads). Past its capacity it refuses further
 * messages and remembers that it overflowed, so the stream can end and the client resume.
 * While its reader waits it is idle (see heartbeat-ticker.ts): a push, an overflow or wake()
 * ends the wait. Pushing allocates nothing but the slot; no timer is set per wait.
 */
import type { ChatMessage } from "../domain/model.js";
import type { Idler } from "./heartbeat-ticker.js";

export class FrameQueue implements Idler {
  #items: ChatMessage[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #overflowed = false;
  #idleSinceMs: number | undefined;

  constructor(readonly capacity: number) {}

  /** Adds a message; returns false (and drops it) when the queue is full. */
  push(message: ChatMessage): boolean {
    if (this.size >= this.capacity) {
      this.#overflowed = true;
      this.wake();
      return false;
    }
    this.#items.push(message);
    this.wake();
    return true;
  }

  /** Takes the oldest message, if any. */
  shift(): ChatMessage | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head === this.#items.length) {
      // Drained: reuse the array from its start (the common case of one message at a time).
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      // Compact now and then instead of Array#shift on every read (O(n) each).
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Date.now() when the current wait began; undefined when nobody waits. */
  get idleSinceMs(): number | undefined {
    return this.#idleSinceMs;
  }

  /**
   * Resolves when something is pushed, the queue overflows, or wake() is called (by an abort,
   * or by the heartbeat ticker once the wait has lasted a heartbeat period).
   */
  wait(): Promise<void> {
    if (this.size > 0 || this.#overflowed) return Promise.resolve();
    this.#idleSinceMs = Date.now();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Ends a pending wait() early. */
  wake(): void {
    const wake = this.#wake;
    if (!wake) return;
    this.#wake = undefined;
    this.#idleSinceMs = undefined;
    wake();
  }
}
