/**
 * Push mode of a LiveStream (frame-receiver.ts), as its base between the message buffer and the
 * algorithm (a base, not a member object: no extra object per stream, no extra load per
 * delivery). It owns the receiver while pushing and since when the consumer has waited: a
 * receiver that cannot take more leaves push mode, and what follows stays buffered (same bound)
 * until read; a stream that is ending tells its receiver to pull.
 */
import type { ChatMessage } from "../domain/model.js";
import type { FrameReceiver } from "./frame-receiver.js";
import { MessageBuffer } from "./message-buffer.js";

/**
 * The push mode of a stream over its buffered messages: pushes each wanted message (see wanted)
 * in buffer order, each once, while the receiver takes them; the base of LiveStream.
 */
export abstract class PushMode extends MessageBuffer {
  /** The receiver while in push mode. */
  #receiver: FrameReceiver | undefined;
  #idleSinceMs: number | undefined;

  /** Date.now() when the consumer started waiting (pushed, or a pending next()); undefined while busy. */
  get idleSinceMs(): number | undefined {
    return this.#idleSinceMs;
  }

  /** Whether the consumer waits from now on (true) or is busy (false). */
  protected waiting(waits: boolean): void {
    this.#idleSinceMs = waits ? Date.now() : undefined;
  }

  /** Whether a receiver is pushed to. */
  protected get pushing(): boolean {
    return this.#receiver !== undefined;
  }

  /** Whether the consumer wants `message` (the rest are skipped, pushed or read). */
  protected abstract wanted(message: ChatMessage): boolean;

  /**
   * Enters push mode when no receiver is set and nothing is buffered or overflowed, and returns
   * true; else false. The stream checks the rest of pushTo()'s contract first.
   */
  protected enterPush(receiver: FrameReceiver): boolean {
    if (this.#receiver || this.hasBuffered || this.overflowed) return false;
    this.#receiver = receiver;
    this.#idleSinceMs = Date.now();
    return true;
  }

  /** Leaves push mode (the receiver asked to, or is told to pull because the stream ends). */
  protected leavePush(receiver: FrameReceiver | undefined = this.#receiver): void {
    if (receiver === undefined || this.#receiver !== receiver) return;
    this.#receiver = undefined;
    this.#idleSinceMs = undefined;
  }

  /** Ends push mode because the stream is ending: the consumer pulls to learn how. */
  protected stopPushing(): void {
    const receiver = this.#receiver;
    if (!receiver) return;
    this.leavePush(receiver);
    receiver.pull();
  }

  /** Pushes every buffered wanted message while the receiver takes them. Call only while pushing. */
  protected pushBuffered(): void {
    const receiver = this.#receiver!;
    for (let message = this.shift(); message; message = this.shift()) {
      if (!this.wanted(message)) continue;
      if (!receiver.push({ kind: "message", message })) return this.leavePush(receiver);
      // The receiver ended the stream (or pulled) from inside push().
      if (this.#receiver !== receiver) return;
    }
    this.#idleSinceMs = Date.now();
  }

  /** Pushes a heartbeat. Call only while pushing. */
  protected pushHeartbeat(): void {
    const receiver = this.#receiver!;
    if (!receiver.push({ kind: "heartbeat", atMs: Date.now() })) return this.leavePush(receiver);
    if (this.#receiver === receiver) this.#idleSinceMs = Date.now();
  }
}
