/**
 * The bounded buffer of a subscription's unread live messages, as the base of LiveStream (a
 * base, not a member object: no extra object per stream, no extra load per delivery). Messages
 * leave in arrival order, each once; past its bound the buffer overflows, keeps nothing more,
 * and stays overflowed.
 */
import type { ChatMessage } from "../domain/model.js";

const NO_MESSAGES: readonly ChatMessage[] = Object.freeze([]);

/** Unread messages, in arrival order, at most `limit` (see enqueue); the base of LiveStream. */
export class MessageBuffer {
  /** Messages not read yet, from #head on; the shared empty array while there are none. */
  #buffer: ChatMessage[] = NO_MESSAGES as ChatMessage[];
  #head = 0;
  #overflowed = false;

  /** Whether a message was refused for want of room; the buffer then takes nothing more. */
  protected get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Whether messages wait to be read. */
  protected get hasBuffered(): boolean {
    return this.#head < this.#buffer.length;
  }

  /**
   * Appends `message` while fewer than `limit` wait unread and returns true; else marks the
   * buffer overflowed, drops the message and returns false. Call only while not overflowed.
   */
  protected enqueue(message: ChatMessage, limit: number): boolean {
    if (this.#buffer.length - this.#head >= limit) {
      this.#overflowed = true;
      return false;
    }
    if (this.#buffer === NO_MESSAGES) this.#buffer = [message];
    else this.#buffer.push(message);
    return true;
  }

  /** The oldest unread message, now read; undefined when none waits. */
  protected shift(): ChatMessage | undefined {
    if (this.#head >= this.#buffer.length) return undefined;
    const message = this.#buffer[this.#head++];
    if (this.#head === this.#buffer.length) {
      this.#buffer = NO_MESSAGES as ChatMessage[];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }

  /** Drops every unread message (the overflow mark stays). */
  protected clearBuffer(): void {
    this.#buffer = NO_MESSAGES as ChatMessage[];
    this.#head = 0;
  }
}
