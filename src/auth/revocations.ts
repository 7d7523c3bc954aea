/**
 * Answers "is this token revoked?" on every call without a store round trip each time:
 * revocations this node has seen (its own sign-outs and those from the bus) are held in memory
 * until the token would have expired; other answers from the store are cached briefly.
 */
import type { Store } from "../store/store.js";

const NOT_REVOKED_TTL_MS = 10_000;

export class RevocationCache {
  readonly #revoked = new Map<string, number>();
  readonly #checked = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** Records a revocation this node learned of (own sign-out or bus event). */
  remember(tokenId: string, expiresAtMs: number): void {
    this.#revoked.set(tokenId, expiresAtMs);
    this.#checked.delete(tokenId);
  }

  /** True when the token is revoked. Cheap: a map lookup on all but the first call per 10 s. */
  async isRevoked(tokenId: string): Promise<boolean> {
    if (this.#revoked.has(tokenId)) return true;
    const now = Date.now();
    const checkedAt = this.#checked.get(tokenId);
    if (checkedAt !== undefined && now - checkedAt < NOT_REVOKED_TTL_MS) return false;
    const revoked = await this.store.isTokenRevoked(tokenId);
    if (revoked) this.#revoked.set(tokenId, now + 86_400_000);
    else this.#checked.set(tokenId, now);
    this.#sweep(now);
    return revoked;
  }

  /** Drops expired entries so the maps stay as small as the set of live tokens. */
  #sweep(now: number): void {
    if (this.#checked.size < 10_000 && this.#revoked.size < 10_000) return;
    for (const [id, at] of this.#checked) if (now - at >= NOT_REVOKED_TTL_MS) this.#checked.delete(id);
    for (const [id, exp] of this.#revoked) if (exp < now) this.#revoked.delete(id);
  }
}
