/** A poster that keeps posting to a room through faults, recording what the server acknowledged. */
import type { ParleyClient } from "@parley/client";

export interface Poster {
  /** Ids of the acknowledged posts, in posting order. */
  readonly acked: string[];
  /** Resolves once `count` posts are acknowledged. */
  readonly done: Promise<void>;
  /** Resolves once at least `n` posts are acknowledged. */
  untilAcked(n: number): Promise<void>;
}

/**
 * Posts `count` messages one after another (`label` 0, 1, …), each retried with its own key until
 * the server stores it — through cuts, restarts and rate limits. `pauseMs` paces the load.
 */
export function startPoster(client: ParleyClient, roomId: string, count: number, options: { label?: string; pauseMs?: number; text?: (i: number) => string } = {}): Poster {
  const acked: string[] = [];
  const waiters: { n: number; resolve(): void }[] = [];
  const done = (async () => {
    for (let i = 0; i < count; i++) {
      const text = options.text?.(i) ?? `${options.label ?? "m"} ${i}`;
      const message = await client.post(roomId, text, { maxAttempts: Infinity, timeoutMs: 5_000 });
      acked.push(message.messageId);
      for (const w of waiters.filter((w) => acked.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  })();
  return {
    acked,
    done,
    untilAcked: (n) => (acked.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}
