/**
 * A streamed response's send buffer: writes that stay within a byte budget complete at once;
 * above it, the stream waits — for a bounded time — for its client to drain.
 */
import type { AnyResponse } from "../http/respond.js";

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
 * bytes stay within `sendBufferBytes`; above, a promise of true when the client takes them
 * within `slowClientMs`, false when it does not. A response that has ended or closed is not
 * written to.
 *
 * Above the budget it waits for this chunk's write callback — the chunk, and so everything
 * before it, handed to the connection — not for 'drain': Node emits 'drain' only after a write
 * that returned false, which never happens while the budget is below the response's own
 * high-water mark (64 KiB since Node 22), so a reader that kept up was ended as too slow.
 */
export function writeBuffered(res: AnyResponse, chunk: Uint8Array | string, limits: SendLimits): boolean | Promise<boolean> {
  if (res.destroyed || res.writableEnded) return true;
  const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
  if ((res.writableLength ?? 0) + size <= limits.sendBufferBytes) {
    res.write(chunk);
    return true;
  }
  return within(limits.slowClientMs, (done) => {
    res.write(chunk, () => done());
    res.on("close", done);
    return () => res.off("close", done);
  });
}
