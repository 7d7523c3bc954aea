/**
 * Sending a message exactly once over an unreliable connection: the same `client_message_id` on
 * every attempt, so however often an answer is lost, the server stores the message once and
 * answers each retry with the first copy.
 */
import { type BackoffOptions, backoffDelay, wait } from "./backoff.js";
import { ConnectError, isRetryable, retryAfterMs } from "./errors.js";
import type { Message } from "./gen.js";

/** Who a direct message goes to. */
export type Recipient = { userId: string } | { username: string };

/** How a send is retried. */
export interface SendOptions {
  /** The idempotency key; a fresh one by default. Pass the same key to retry a send yourself. */
  clientMessageId?: string;
  /** Gives up (rejecting with CANCELED) when aborted. */
  signal?: AbortSignal;
  /** Attempts in all, the first included (default 8); Infinity retries until the signal aborts. */
  maxAttempts?: number;
  /** Deadline of each attempt (default: the client's `callTimeoutMs`). */
  timeoutMs?: number;
  /** Called before each retry, with the error that caused it. */
  onRetry?(error: ConnectError, attempt: number, delayMs: number): void;
}

/** One attempt of a send: the RPC call with the given key, deadline and signal. */
export type SendAttempt = (clientMessageId: string, call: { signal?: AbortSignal; timeoutMs: number }) => Promise<Message>;

/**
 * Sends with retries: transport failures, UNAVAILABLE, deadlines and RESOURCE_EXHAUSTED are
 * retried with the same key after the server's Retry-After or a jittered backoff; answers that
 * would be the same again (INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, ALREADY_EXISTS for a key
 * reused with other content, …) reject at once with that ConnectError.
 */
export async function sendOnce(attempt: SendAttempt, key: string, options: SendOptions, defaults: { timeoutMs: number; backoff: BackoffOptions }): Promise<Message> {
  const maxAttempts = options.maxAttempts ?? 8;
  const { signal } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt(key, { ...(signal ? { signal } : {}), timeoutMs: options.timeoutMs ?? defaults.timeoutMs });
    } catch (err) {
      const error = ConnectError.from(err);
      if (signal?.aborted || !isRetryable(error) || n >= maxAttempts) throw error;
      const delay = Math.max(retryAfterMs(error) ?? 0, backoffDelay(n - 1, defaults.backoff));
      options.onRetry?.(error, n, delay);
      await wait(delay, signal).done;
    }
  }
}
