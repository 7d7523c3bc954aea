/**
 * A streamed response's send buffer: writes that stay within a byte budget complete at once;
 * above it, the stream waits — for a bounded time — for its client to drain.
 */
import type { AnyResponse } from "./respond.js";

/**
 * Resolves true when `subscribe`'s callback fires within `ms`, false when the time runs out
 * first. `subscribe` registers the callback and returns how to unregister it.
 */
export function within(ms: number, subscribe: (done: () => void) => () => void): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), ms);
    unsubscribe = subscribe(() => finish(true));
    if (settled) unsubscribe();
  });
}

/** How much a streamed response may buffer for a slow client, and for how long. */
export interface SendLimits {
  /** Unsent bytes above which the stream waits for its client to read. */
  readonly sendBufferBytes: number;
  /** How long it waits before the client counts as too slow. */
  readonly slowClientMs: number;
}

/**
 * Writes one chunk of a streamed response (a SendFrame's body). Returns true while the unsent
 * bytes stay within `sendBufferBytes`; above, a promise of true when the client drains them
 * within `slowClientMs`, false when it does not. A response that has ended or closed is not
 * written to.
 */
export function writeBuffered(res: AnyResponse, chunk: Uint8Array | string, limits: SendLimits): boolean | Promise<boolean> {
  if (res.destroyed || res.writableEnded) return true;
  res.write(chunk);
  if ((res.writableLength ?? 0) <= limits.sendBufferBytes) return true;
  return within(limits.slowClientMs, (done) => {
    res.on("drain", done);
    res.on("close", done);
    return () => {
      res.off("drain", done);
      res.off("close", done);
    };
  });
}
