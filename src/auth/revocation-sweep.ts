/**
 * Brings every revocation stored on any node to this process without the bus. Every interval it
 * asks the store for the revocations stored since its last successful look — less a look-back
 * that covers other nodes' clocks running behind this one and revocations still being written
 * when it looked — and hands each to the RevocationCache, which ends the token's open streams
 * here. The bus's token_revoked event stays the fast path; the sweep is what ends those streams
 * within about one interval when the bus lost or delayed the event (Kafka down during a sign-out).
 *
 * Revocations in the look-back are handed over again on every look: handing one over is
 * idempotent and cheap, and it also ends a stream that was opened with the token just before
 * this process learned of the revocation.
 */
import type { Logger } from "../observability/logger.js";
import type { Store } from "../store/store.js";
import type { RevocationCache } from "./revocations.js";

/** How far back each look reaches before the previous one: clock skew between nodes plus a slow write. */
export const SWEEP_LOOK_BACK_MS = 30_000;

export interface RevocationSweepOptions {
  /** Time between the end of one look and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly lookBackMs?: number;
  readonly now?: () => number;
}

export class RevocationSweep {
  readonly #lookBackMs: number;
  readonly #now: () => number;
  /** The `since` of the next look; it moves only when a look succeeds, so an outage is caught up. */
  #since: number;
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<void> | undefined;
  #failing = false;
  #stopped = false;

  constructor(
    private readonly store: Pick<Store, "listRevocationsSince">,
    private readonly revocations: Pick<RevocationCache, "remember">,
    private readonly options: RevocationSweepOptions,
  ) {
    this.#lookBackMs = options.lookBackMs ?? SWEEP_LOOK_BACK_MS;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now() - this.#lookBackMs;
  }

  /** Looks every interval until stop(); a failed look is logged (warn) and retried at the next one. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#schedule();
  }

  /** One look: hands every revocation found to the cache and returns how many; throws what the store threw. */
  async sweep(): Promise<number> {
    const startedAt = this.#now();
    const found = await this.store.listRevocationsSince(this.#since);
    for (const revocation of found) this.revocations.remember(revocation.tokenId, revocation.expiresAtMs);
    this.#since = Math.max(this.#since, startedAt - this.#lookBackMs);
    return found.length;
  }

  /** Stops looking; resolves once a look under way has finished. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#looking;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#looking = this.#look().finally(() => {
        this.#looking = undefined;
        if (!this.#stopped) this.#schedule();
      });
    }, this.options.intervalMs);
    // The sweep alone never keeps the process alive.
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    try {
      await this.sweep();
      if (this.#failing) this.options.logger.info("revocation sweep reads the store again");
      this.#failing = false;
    } catch (error) {
      // Once per failing spell: the store's own outage log says the rest.
      if (!this.#failing) {
        this.options.logger.warn({ err: error }, "revocation sweep cannot read the store: other nodes' sign-outs reach this one by the bus only until it can");
      }
      this.#failing = true;
    }
  }
}
