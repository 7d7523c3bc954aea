/**
 * What this node handed to live subscribers lately, per channel — for a log-first bus (Kafka),
 * where a node can hand a message on *before* the store has it (the node that appended it writes
 * the store after reading it back; the store writer repeats that). A stream that starts from the
 * store must not lose such a message, nor see it after a later one the store already had:
 *
 *   - `after(channel, since)` gives what was handed on lately after `since`, to merge with the
 *     store's replay (a message handed on before the stream registered is in neither its live
 *     buffer nor, yet, the store);
 *   - `reached(channel, id)` resolves once this node has handed on `id` or a later message of
 *     the channel: the log orders a channel by id, so then every earlier one has been handed on
 *     too — and is in the replay, this window, or the stream's live buffer.
 *
 * Kept for `windowMs` of this node's time per message (default 60 s, far beyond the store's
 * usual lag of milliseconds); a channel whose newest message is older is forgotten entirely.
 */
import { compareIds, idTimeMs } from "../domain/ids.js";
import { type Channel, type ChatMessage, channelKey } from "../domain/model.js";

interface ChannelHistory {
  readonly messages: ChatMessage[];
  /** This node's time at which each message was handed on. */
  readonly at: number[];
  waiters: Array<{ id: string; resolve: (reached: boolean) => void }> | undefined;
}

export class RecentMessages {
  readonly #channels = new Map<string, ChannelHistory>();
  #sweptAt = 0;

  constructor(
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a message as handed on now (channel order: it is the newest of its channel). */
  add(message: ChatMessage): void {
    const now = this.now();
    const key = channelKey(message.channel);
    let history = this.#channels.get(key);
    if (!history) this.#channels.set(key, (history = { messages: [], at: [], waiters: undefined }));
    history.messages.push(message);
    history.at.push(now);
    this.#trim(history, now);
    if (history.waiters) {
      history.waiters = history.waiters.filter((w) => (compareIds(message.id, w.id) >= 0 ? (w.resolve(true), false) : true));
      if (history.waiters.length === 0) history.waiters = undefined;
    }
    if (now - this.#sweptAt > this.windowMs) this.#sweep(now);
  }

  /** Messages of the channel handed on within the window with an id above `since`, oldest first. */
  after(channel: Channel, since: string): ChatMessage[] {
    const history = this.#channels.get(channelKey(channel));
    return history ? history.messages.filter((m) => compareIds(m.id, since) > 0) : [];
  }

  /** The newest message id of the channel handed on within the window. */
  newest(channel: Channel): string | undefined {
    return this.#channels.get(channelKey(channel))?.messages.at(-1)?.id;
  }

  /**
   * Resolves true once this node has handed on `id` or a later message of the channel — at once
   * if it has, or if `id` is older than the window (handed on long ago, or the node is so far
   * behind that it must not serve streams); false after `timeoutMs`.
   */
  reached(channel: Channel, id: string, timeoutMs: number): Promise<boolean> {
    const newest = this.newest(channel);
    if (newest !== undefined && compareIds(newest, id) >= 0) return Promise.resolve(true);
    if (idTimeMs(id) < this.now() - this.windowMs / 2) return Promise.resolve(true);
    const key = channelKey(channel);
    let history = this.#channels.get(key);
    if (!history) this.#channels.set(key, (history = { messages: [], at: [], waiters: undefined }));
    const waiters = (history.waiters ??= []);
    return new Promise<boolean>((resolve) => {
      const waiter = { id, resolve };
      waiters.push(waiter);
      setTimeout(() => {
        const list = this.#channels.get(key)?.waiters;
        const index = list?.indexOf(waiter) ?? -1;
        if (index < 0) return;
        list!.splice(index, 1);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  #trim(history: ChannelHistory, now: number): void {
    let drop = 0;
    while (drop < history.at.length && now - history.at[drop]! > this.windowMs) drop++;
    if (drop > 0) {
      history.messages.splice(0, drop);
      history.at.splice(0, drop);
    }
  }

  /** Forgets channels with nothing in the window (and nobody waiting). */
  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, history] of this.#channels) {
      this.#trim(history, now);
      if (history.messages.length === 0 && !history.waiters) this.#channels.delete(key);
    }
  }
}
