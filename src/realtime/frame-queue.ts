/**
 * A bounded FIFO between the hub (which pushes synchronously, never waiting) and one stream's
 * writer (which pulls as fast as its client reads). Past its capacity it refuses further
 * messages and remembers that it overflowed, so the stream can end and the client resume.
 */
import type { ChatMessage } from "../domain/model.js";

export class FrameQueue {
  #items: ChatMessage[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #overflowed = false;

  constructor(readonly capacity: number) {}

  /** Adds a message; returns false (and drops it) when the queue is full. */
  push(message: ChatMessage): boolean {
    if (this.size >= this.capacity) {
      this.#overflowed = true;
      this.#notify();
      return false;
    }
    this.#items.push(message);
    this.#notify();
    return true;
  }

  /** Takes the oldest message, if any. */
  shift(): ChatMessage | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    // Compact now and then instead of Array#shift on every read (O(n) each).
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
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

  /** Resolves when something is pushed, the queue overflows, wake() is called, or after ms. */
  wait(ms: number): Promise<void> {
    if (this.size > 0 || this.#overflowed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#notify(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends a pending wait() early (e.g. on abort). */
  wake(): void {
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
