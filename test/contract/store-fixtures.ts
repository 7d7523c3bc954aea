/**
 * Builders for the store contract: users, rooms and messages with snowflake ids, from the live
 * clock or from a fake clock that can be moved across day buckets.
 */
import { BUCKET_MS, idTimeMs, PARLEY_EPOCH_MS, SnowflakeGenerator } from "../../src/domain/ids.js";
import type { Channel, ChatMessage, RoomRecord, UserCredentials } from "../../src/domain/model.js";
import type { Store } from "../../src/store/store.js";

/** A generator with a clock the test sets; distinct worker ids never collide with other tests. */
export class FakeClock {
  #ms: number;
  readonly ids: SnowflakeGenerator;
  constructor(startMs: number, workerId: number) {
    this.#ms = startMs;
    this.ids = new SnowflakeGenerator(workerId, () => this.#ms);
  }
  /** Moves the clock to `ms` (forward only, as the generator expects) and returns it. */
  set(ms: number): number {
    if (ms < this.#ms) throw new Error("a fake clock only moves forward");
    this.#ms = ms;
    return ms;
  }
  get ms(): number {
    return this.#ms;
  }
}

/** The first millisecond of a bucket. */
export function bucketStartMs(bucket: number): number {
  return Number(PARLEY_EPOCH_MS) + bucket * BUCKET_MS;
}

/** Ids and names that cannot clash between tests sharing one store. */
export class Fixtures {
  readonly #tag = Math.random().toString(36).slice(2, 8);
  #count = 0;
  constructor(
    private readonly store: () => Store,
    readonly live: SnowflakeGenerator = new SnowflakeGenerator(1),
  ) {}

  name(prefix: string): string {
    return `${prefix}-${this.#tag}-${++this.#count}`;
  }

  async user(ids: SnowflakeGenerator = this.live): Promise<UserCredentials & { usernameKey: string }> {
    const username = this.name("User");
    const id = ids.next();
    const user = { id, username, usernameKey: username.toLowerCase(), passwordHash: `scrypt$${username}`, createdAtMs: idTimeMs(id) };
    await this.store().createUser(user);
    return user;
  }

  async room(ids: SnowflakeGenerator = this.live, createdBy = "1"): Promise<RoomRecord & { nameKey: string }> {
    const name = this.name("Room");
    const id = ids.next();
    const room = { id, name, nameKey: name.toLowerCase(), createdBy, createdAtMs: idTimeMs(id) };
    await this.store().createRoom(room);
    return room;
  }
}

/** A message (not stored) with a fresh id from `ids`. */
export function message(
  ids: SnowflakeGenerator,
  channel: Channel,
  sender: { id: string; username: string },
  text: string,
  clientMessageId = "",
): ChatMessage {
  const id = ids.next();
  return { id, channel, senderId: sender.id, senderName: sender.username, text, createdAtMs: idTimeMs(id), clientMessageId };
}

/** Every page of a listing, following the `before` cursor, concatenated. */
export async function walkBackwards(
  list: (page: { before?: string; after?: string; limit: number }) => Promise<ChatMessage[]>,
  limit: number,
  after?: string,
): Promise<ChatMessage[]> {
  const all: ChatMessage[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await list({ before, after, limit });
    all.push(...page);
    if (page.length < limit) return all;
    before = page[page.length - 1]!.id;
  }
  throw new Error("paging did not end");
}

/** The ids of messages, for short, readable comparisons. */
export const ids = (messages: readonly ChatMessage[]): string[] => messages.map((m) => m.id);
