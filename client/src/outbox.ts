/**
 * An outbox: sends queued while the server cannot be reached, sent one at a time in the order they
 * were made, each with its own idempotency key, once the server answers again. With `storage` the
 * queue outlives the page or process (a reload sends what was left, with the same keys).
 */
import { type BackoffOptions, backoffDelay, wait } from "./backoff.js";
import { Code, ConnectError, isRetryable, retryAfterMs } from "./errors.js";
import type { Message } from "./gen.js";
import { newClientMessageId } from "./keys.js";
import type { Recipient } from "./send.js";

/** One queued send. */
export type OutboxItem =
  | { readonly kind: "post"; readonly roomId: string; readonly text: string; readonly clientMessageId: string }
  | { readonly kind: "direct"; readonly to: Recipient; readonly text: string; readonly clientMessageId: string };

/** Where the queue is kept between runs (e.g. localStorage, a file). */
export interface OutboxStorage {
  load(): readonly OutboxItem[];
  save(items: readonly OutboxItem[]): void;
}

export interface OutboxOptions {
  /** Keeps the queue across restarts; loaded items are sent first. */
  storage?: OutboxStorage;
  /** Called when an item is stored by the server. */
  onSent?(item: OutboxItem, message: Message): void;
  /** Called when the server refuses an item for good (it is dropped; the next one goes on). */
  onFailed?(item: OutboxItem, error: ConnectError): void;
  /** Called when the queue stops on UNAUTHENTICATED; it keeps its items until `flush()`. */
  onBlocked?(error: ConnectError): void;
  /** Called whenever the queue changes. */
  onChange?(pending: readonly OutboxItem[]): void;
}

/** What the outbox needs from its client. */
export interface OutboxClient {
  post(roomId: string, text: string, options: { clientMessageId: string; maxAttempts: number; signal: AbortSignal }): Promise<Message>;
  sendDirect(to: Recipient, text: string, options: { clientMessageId: string; maxAttempts: number; signal: AbortSignal }): Promise<Message>;
}

export interface OutboxDeps {
  readonly backoff: BackoffOptions;
  /** Registers a call for when any stream of the client turns live; returns its removal. */
  onLive(wake: () => void): () => void;
}

/** The outbox of one client; see the file comment. */
export class Outbox {
  readonly #items: OutboxItem[];
  readonly #waiting = new Map<string, { resolve(m: Message): void; reject(e: unknown): void }>();
  readonly #closer = new AbortController();
  readonly #unlisten: () => void;
  #wake: (() => void) | undefined;
  #running = false;

  constructor(
    private readonly client: OutboxClient,
    private readonly options: OutboxOptions,
    private readonly deps: OutboxDeps,
  ) {
    this.#items = [...(options.storage?.load() ?? [])];
    this.#unlisten = deps.onLive(() => this.#wake?.());
    this.flush();
  }

  /** Queues a post; resolves with the stored message (once, however many attempts it took). */
  post(roomId: string, text: string): Promise<Message> {
    return this.#enqueue({ kind: "post", roomId, text, clientMessageId: newClientMessageId() });
  }

  /** Queues a direct message; resolves with the stored message. */
  sendDirect(to: Recipient, text: string): Promise<Message> {
    return this.#enqueue({ kind: "direct", to, text, clientMessageId: newClientMessageId() });
  }

  /** Items not yet stored, oldest first. */
  get pending(): readonly OutboxItem[] {
    return [...this.#items];
  }

  /** Sends now: after `onBlocked` (with a new token), or to skip the current backoff. */
  flush(): void {
    if (this.#closer.signal.aborted) return;
    if (this.#running) return this.#wake?.();
    this.#running = true;
    void this.#run();
  }

  /** Stops sending; items stay in `storage`, and the promises of this run reject with CANCELED. */
  close(): void {
    this.#closer.abort();
    this.#unlisten();
    this.#wake?.();
    for (const { reject } of this.#waiting.values()) reject(new ConnectError("outbox closed", Code.Canceled));
    this.#waiting.clear();
  }

  #enqueue(item: OutboxItem): Promise<Message> {
    if (this.#closer.signal.aborted) return Promise.reject(new ConnectError("outbox closed", Code.Canceled));
    const sent = new Promise<Message>((resolve, reject) => this.#waiting.set(item.clientMessageId, { resolve, reject }));
    this.#items.push(item);
    this.#changed();
    this.flush();
    return sent;
  }

  #changed(): void {
    this.options.storage?.save(this.#items);
    this.options.onChange?.(this.pending);
  }

  /** Sends the head of the queue until the queue is empty, blocked or closed. */
  async #run(): Promise<void> {
    const signal = this.#closer.signal;
    let attempt = 0;
    try {
      for (let item = this.#items[0]; item && !signal.aborted; item = this.#items[0]) {
        try {
          const once = { clientMessageId: item.clientMessageId, maxAttempts: 1, signal };
          const message = item.kind === "post" ? await this.client.post(item.roomId, item.text, once) : await this.client.sendDirect(item.to, item.text, once);
          attempt = 0;
          this.#settle(item, (w) => w.resolve(message));
          this.options.onSent?.(item, message);
        } catch (err) {
          if (signal.aborted) return;
          const error = ConnectError.from(err);
          if (error.code === Code.Unauthenticated) return this.options.onBlocked?.(error);
          if (!isRetryable(error)) {
            this.#settle(item, (w) => w.reject(error));
            this.options.onFailed?.(item, error);
            continue;
          }
          // Unreachable or overloaded: wait (a live stream of the client ends the wait early).
          const pause = wait(Math.max(retryAfterMs(error) ?? 0, backoffDelay(attempt++, this.deps.backoff)), signal);
          this.#wake = pause.wake;
          await pause.done;
          this.#wake = undefined;
        }
      }
    } finally {
      // In the same turn as the last look at the queue: an item queued from now on starts a new run.
      this.#running = false;
    }
  }

  /** Drops the head item (it was `item`) and settles its promise. */
  #settle(item: OutboxItem, settle: (waiter: { resolve(m: Message): void; reject(e: unknown): void }) => void): void {
    this.#items.shift();
    this.#changed();
    const waiter = this.#waiting.get(item.clientMessageId);
    this.#waiting.delete(item.clientMessageId);
    if (waiter) settle(waiter);
  }
}
