/**
 * What this process knows of revoked tokens, and the one place that acts on a revocation: it
 * answers "is this token revoked?" on every call without a store round trip each time, and ends
 * the token's open streams here as soon as it learns of one — whether from its own sign-out, the
 * bus, the store sweep (revocation-sweep.ts) or a call's check. Revocations it has learned of are
 * held in memory until the token would have expired; "not revoked" answers are cached briefly.
 */
import type { Store } from "../store/store.js";

const NOT_REVOKED_TTL_MS = 10_000;
/** How long a revocation found by isRevoked() is held when its expiry is not known (the store check does not say). */
const UNKNOWN_EXPIRY_MS = 86_400_000;

/** The open streams of this process, by token (realtime/hub.ts). */
export interface TokenStreams {
  /** Ends every open stream of the token; must not throw, a no-op when there is none. */
  revokeSessions(tokenId: string): void;
}

export class RevocationCache {
  readonly #revoked = new Map<string, number>();
  readonly #checked = new Map<string, number>();

  constructor(
    private readonly store: Pick<Store, "isTokenRevoked">,
    private readonly streams: TokenStreams,
  ) {}

  /**
   * The token is revoked (own sign-out, bus event, store sweep): refused from now on, and its open
   * streams on this process end now. Idempotent; learning of it again ends streams opened since.
   */
  remember(tokenId: string, expiresAtMs: number): void {
    this.#revoked.set(tokenId, expiresAtMs);
    this.#checked.delete(tokenId);
    this.streams.revokeSessions(tokenId);
  }

  /** True when the token is revoked. Cheap: a map lookup on all but the first call per 10 s. */
  async isRevoked(tokenId: string): Promise<boolean> {
    if (this.#revoked.has(tokenId)) return true;
    const now = Date.now();
    const checkedAt = this.#checked.get(tokenId);
    if (checkedAt !== undefined && now - checkedAt < NOT_REVOKED_TTL_MS) return false;
    const revoked = await this.store.isTokenRevoked(tokenId);
    if (revoked) this.remember(tokenId, now + UNKNOWN_EXPIRY_MS);
    else this.#checked.set(tokenId, now);
    this.#prune(now);
    return revoked;
  }

  /** Drops expired entries so the maps stay as small as the set of live tokens. */
  #prune(now: number): void {
    if (this.#checked.size < 10_000 && this.#revoked.size < 10_000) return;
    for (const [id, at] of this.#checked) if (now - at >= NOT_REVOKED_TTL_MS) this.#checked.delete(id);
    for (const [id, exp] of this.#revoked) if (exp < now) this.#revoked.delete(id);
  }
}
