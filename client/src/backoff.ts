/** Reconnect and retry delays: jittered exponential backoff, shared by subscriptions, posts and the outbox. */

/** How long to wait before retry number `attempt`, and how that grows. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (default 250 ms). */
  readonly initialMs?: number;
  /** Longest delay, before jitter (default 10 s). */
  readonly maxMs?: number;
}

/**
 * Delay before retry `attempt` (0-based): `initialMs · 2^attempt`, capped at `maxMs`, then jittered
 * into [d/2, d) so that clients dropped together do not come back together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const d = Math.min(options.maxMs ?? 10_000, (options.initialMs ?? 250) * 2 ** Math.min(attempt, 30));
  return d / 2 + random() * (d / 2);
}

/** A wait that ends after `ms`, on `signal`, or early when `wake()` is called. */
export interface Wait {
  readonly done: Promise<void>;
  wake(): void;
}

/** Starts a wait of `ms` that ends early on abort or wake(); never rejects. */
export function wait(ms: number, signal?: AbortSignal): Wait {
  let wake = (): void => {};
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal?.addEventListener("abort", finish);
    wake = finish;
  });
  return { done, wake: () => wake() };
}
