/**
 * User records by id, for authentication: every call resolves its token's `sub` to a user (the
 * name shown to others comes from the record, never from the token, and a token for no user is
 * refused). Users are never deleted or renamed, so a record once read stays true: records are
 * kept in a bounded least-recently-used cache, a miss costs one store read, and concurrent
 * misses for the same id share it. Ids that are no user are not cached (they are refused, and
 * refusals are rate limited per address).
 */
import type { UserRecord } from "../domain/model.js";
import type { Store } from "../store/store.js";

/** Records kept per process: about 150 bytes each, so the default is ~15 MB at most. */
export const USER_CACHE_SIZE = 100_000;

export class UserDirectory {
  readonly #records = new Map<string, UserRecord>();
  readonly #reading = new Map<string, Promise<UserRecord | undefined>>();

  constructor(
    private readonly store: Pick<Store, "findUserById">,
    private readonly capacity = USER_CACHE_SIZE,
  ) {}

  /** The cached record of `id`, without a store read (undefined when not cached). */
  cached(id: string): UserRecord | undefined {
    const user = this.#records.get(id);
    if (user) {
      // Most recently used goes last; the first entry is the one evicted.
      this.#records.delete(id);
      this.#records.set(id, user);
    }
    return user;
  }

  /** The user with this id, or undefined when there is none. */
  async find(id: string): Promise<UserRecord | undefined> {
    const hit = this.cached(id);
    if (hit) return hit;
    let reading = this.#reading.get(id);
    if (!reading) {
      reading = this.store.findUserById(id).finally(() => this.#reading.delete(id));
      this.#reading.set(id, reading);
    }
    const user = await reading;
    if (user) this.remember(user);
    return user;
  }

  /** Keeps a record this process has just read or created (sign-up, sign-in). */
  remember(user: UserRecord): void {
    const record = { id: user.id, username: user.username, createdAtMs: user.createdAtMs };
    this.#records.delete(user.id);
    this.#records.set(user.id, record);
    if (this.#records.size > this.capacity) this.#records.delete(this.#records.keys().next().value!);
  }

  /** How many records are cached (for tests). */
  get size(): number {
    return this.#records.size;
  }
}
