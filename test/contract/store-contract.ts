/**
 * The store port's contract: every adapter (SQLite, Cassandra) runs this one suite against a
 * real engine. One store serves the whole suite, so every test makes its own users and rooms.
 *
 * Precondition the port relies on (ids are snowflakes): a channel's messages are newer than the
 * channel — a room's messages than the room, direct messages than both users.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUCKET_MS, bucketOf, minIdAt } from "../../src/domain/ids.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { type Revocation, type Store, UniqueViolation } from "../../src/store/store.js";
import { readMarkerContract } from "./store-contract-reads.js";
import { bucketStartMs, FakeClock, Fixtures, ids, message, walkBackwards } from "./store-fixtures.js";

/** A fresh, empty store and how to dispose of it (close, delete its files or keyspace). */
export interface StoreUnderTest {
  readonly store: Store;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const byNewest = (messages: readonly ChatMessage[]): ChatMessage[] => [...messages].reverse();

/** Registers the contract suite for one adapter; `makeStore` runs once, before the first test. */
export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, { timeout: 60_000 }, () => {
    let subject: StoreUnderTest | undefined;
    const store = (): Store => subject!.store;
    const make = new Fixtures(store);
    let worker = 100;
    /**
     * A fake clock a minute into the bucket `bucketsBack` buckets before now's, with a worker id
     * no other test uses. At the start of its bucket, whatever the time of day: the tests place
     * messages hours after it and count on them staying in that bucket (from now's time of day,
     * a test run in the last two hours before midnight UTC spread them over one bucket fewer).
     */
    const clockBack = (bucketsBack: number): FakeClock => {
      const nowBucket = Math.floor((Date.now() - bucketStartMs(0)) / BUCKET_MS);
      return new FakeClock(bucketStartMs(nowBucket - bucketsBack) + 60_000, ++worker);
    };

    beforeAll(async () => {
      subject = await makeStore();
    }, 180_000);
    afterAll(async () => {
      await subject?.cleanup();
    }, 60_000);

    describe("users", () => {
      it("finds a user by id (without credentials) and by name key (with them)", async () => {
        const u = await make.user();
        expect(await store().findUserById(u.id)).toEqual({ id: u.id, username: u.username, createdAtMs: u.createdAtMs });
        expect(await store().findUserByNameKey(u.usernameKey)).toEqual({
          id: u.id, username: u.username, createdAtMs: u.createdAtMs, passwordHash: u.passwordHash,
        });
        expect(await store().findUserById(make.live.next())).toBeUndefined();
        expect(await store().findUserByNameKey(make.name("nobody"))).toBeUndefined();
      });

      it("rejects a taken username key with UniqueViolation('username') and stores nothing", async () => {
        const u = await make.user();
        const dup = {
          id: make.live.next(), username: u.username.toUpperCase(), usernameKey: u.usernameKey, passwordHash: "other", createdAtMs: Date.now(),
        };
        const error = await store().createUser(dup).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UniqueViolation);
        expect((error as UniqueViolation).what).toBe("username");
        expect(await store().findUserById(dup.id)).toBeUndefined();
        expect((await store().findUserByNameKey(u.usernameKey))?.passwordHash).toBe(u.passwordHash);
      });
    });

    describe("rooms", () => {
      it("finds a room by id", async () => {
        const r = await make.room(make.live, "42");
        expect(await store().findRoom(r.id)).toEqual({ id: r.id, name: r.name, createdBy: "42", createdAtMs: r.createdAtMs });
        expect(await store().findRoom(make.live.next())).toBeUndefined();
      });

      it("rejects a taken room name with UniqueViolation('room_name') and stores nothing", async () => {
        const r = await make.room();
        const dup = { id: make.live.next(), name: r.name, nameKey: r.nameKey, createdBy: "7", createdAtMs: Date.now() };
        const error = await store().createRoom(dup).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UniqueViolation);
        expect((error as UniqueViolation).what).toBe("room_name");
        expect(await store().findRoom(dup.id)).toBeUndefined();
        expect((await store().listRooms(r.id, 1000)).map((x) => x.id)).not.toContain(dup.id);
      });

      it("lists rooms oldest first after an exclusive cursor, at most `limit`", async () => {
        // Ids from the first day of the epoch: older than every other room in this store.
        const clock = new FakeClock(bucketStartMs(0) + 1000, ++worker);
        const roomIds = Array.from({ length: 5 }, () => clock.ids.next());
        for (const i of [2, 0, 4, 1, 3]) {
          const n = make.name("Listed");
          await store().createRoom({ id: roomIds[i]!, name: n, nameKey: n.toLowerCase(), createdBy: "1", createdAtMs: clock.ms });
        }
        const list = async (after: string | undefined, limit: number): Promise<string[]> =>
          (await store().listRooms(after, limit)).map((r) => r.id);
        const start = (BigInt(roomIds[0]!) - 1n).toString();
        expect(await list(start, 2)).toEqual(roomIds.slice(0, 2));
        expect(await list(roomIds[1], 2)).toEqual(roomIds.slice(2, 4));
        expect((await list(roomIds[3], 2))[0]).toBe(roomIds[4]);
        expect((await list(undefined, 3))).toEqual(roomIds.slice(0, 3));
        const all = await list(undefined, 10_000);
        expect(all.slice(0, 5)).toEqual(roomIds);
        expect([...all].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(all);
      });
    });

    describe("room messages", () => {
      it("returns what was appended, newest first, strictly between the cursors, at most `limit`", async () => {
        const room = await make.room();
        const other = await make.room();
        const alice = await make.user();
        const sent: ChatMessage[] = [];
        for (let i = 1; i <= 6; i++) {
          const m = message(make.live, { kind: "room", id: room.id }, alice, `hello ${i} ✓ 🎉`, i % 2 ? `c-${i}` : "");
          expect(await store().appendMessage(m)).toEqual({ message: m, created: true });
          sent.push(m);
        }
        await store().appendMessage(message(make.live, { kind: "room", id: other.id }, alice, "elsewhere"));
        const [m1, m2, m3, m4, m5, m6] = sent as [ChatMessage, ChatMessage, ChatMessage, ChatMessage, ChatMessage, ChatMessage];
        const list = (page: { before?: string; after?: string; limit: number }): Promise<ChatMessage[]> =>
          store().listRoomMessages(room.id, page);
        expect(await list({ limit: 100 })).toEqual(byNewest(sent));
        expect(await list({ limit: 1 })).toEqual([m6]);
        expect(await list({ before: m5.id, limit: 2 })).toEqual([m4, m3]);
        expect(await list({ after: m2.id, limit: 100 })).toEqual([m6, m5, m4, m3]);
        expect(await list({ after: m2.id, limit: 2 })).toEqual([m6, m5]);
        expect(await list({ before: m5.id, after: m2.id, limit: 10 })).toEqual([m4, m3]);
        expect(await list({ before: m3.id, after: m2.id, limit: 10 })).toEqual([]);
        expect(await list({ after: m6.id, limit: 10 })).toEqual([]);
        expect(await list({ before: m1.id, limit: 10 })).toEqual([]);
        expect(await store().listRoomMessages((await make.room()).id, { limit: 10 })).toEqual([]);
      });

      it("walks messages spread over several day buckets without skipping any", async () => {
        const clock = clockBack(6);
        const room = await make.room(clock.ids);
        const bob = await make.user(clock.ids);
        const first = bucketOf(room.id);
        const at = (ms: number): ChatMessage => {
          clock.set(ms);
          return message(clock.ids, { kind: "room", id: room.id }, bob, `at ${new Date(ms).toISOString()}`);
        };
        const t0 = clock.ms;
        const sent = [
          at(t0 + HOUR), at(t0 + 2 * HOUR), // the room's own bucket
          at(t0 + BUCKET_MS), // next bucket; the one after stays empty
          at(t0 + 3 * BUCKET_MS), at(t0 + 3 * BUCKET_MS + 60_000),
          at(bucketStartMs(first + 4) - 1), at(bucketStartMs(first + 4)), // both sides of a boundary
          at(t0 + 5 * BUCKET_MS),
        ];
        sent.push(message(make.live, { kind: "room", id: room.id }, bob, "now"));
        expect(new Set(sent.map((m) => bucketOf(m.id))).size).toBeGreaterThanOrEqual(6);
        for (const m of sent) await store().appendMessage(m);
        const list = (page: { before?: string; after?: string; limit: number }): Promise<ChatMessage[]> =>
          store().listRoomMessages(room.id, page);
        const newest = byNewest(sent);
        expect(await list({ limit: 100 })).toEqual(newest);
        for (const limit of [1, 2, 3]) expect(ids(await walkBackwards(list, limit))).toEqual(ids(newest));
        for (let i = 0; i < sent.length; i++) {
          for (let j = i + 1; j < sent.length; j++) {
            const between = await list({ after: sent[i]!.id, before: sent[j]!.id, limit: 100 });
            expect(ids(between), `between #${i} and #${j}`).toEqual(ids(byNewest(sent.slice(i + 1, j))));
          }
          expect(ids(await list({ after: sent[i]!.id, limit: 100 }))).toEqual(ids(byNewest(sent.slice(i + 1))));
        }
        // Cursors that are no message's id, exactly at a bucket boundary.
        const boundary = minIdAt(bucketStartMs(first + 3));
        expect(ids(await list({ before: boundary, limit: 100 }))).toEqual(ids(byNewest(sent.slice(0, 3))));
        expect(ids(await list({ after: boundary, limit: 100 }))).toEqual(ids(byNewest(sent.slice(3))));
        expect(ids(await walkBackwards(list, 2, sent[1]!.id))).toEqual(ids(byNewest(sent.slice(2))));
      });
    });

    describe("direct messages", () => {
      it("lists a user's inbox and a pair's conversation both ways, never other users' messages", async () => {
        const [alice, bob, carol] = [await make.user(), await make.user(), await make.user()];
        const dm = (from: typeof alice, to: typeof alice, text: string): ChatMessage =>
          message(make.live, { kind: "user", id: to.id }, from, text);
        const m1 = dm(alice, bob, "a→b 1");
        const m2 = dm(bob, alice, "b→a");
        const m3 = dm(carol, bob, "c→b");
        const m4 = dm(alice, bob, "a→b 2");
        const m5 = dm(carol, alice, "c→a");
        for (const m of [m1, m2, m3, m4, m5]) await store().appendMessage(m);
        expect(await store().listInbox(bob.id, { limit: 10 })).toEqual([m4, m3, m1]);
        expect(await store().listInbox(alice.id, { limit: 10 })).toEqual([m5, m2]);
        expect(await store().listInbox(carol.id, { limit: 10 })).toEqual([]);
        expect(await store().listConversation(alice.id, bob.id, { limit: 10 })).toEqual([m4, m2, m1]);
        expect(await store().listConversation(bob.id, alice.id, { limit: 10 })).toEqual([m4, m2, m1]);
        expect(await store().listConversation(alice.id, carol.id, { limit: 10 })).toEqual([m5]);
        expect(await store().listConversation(carol.id, bob.id, { limit: 10 })).toEqual([m3]);
        expect(await store().listConversation(bob.id, alice.id, { before: m4.id, after: m1.id, limit: 10 })).toEqual([m2]);
        expect(await store().listInbox(bob.id, { before: m4.id, limit: 1 })).toEqual([m3]);
      });

      it("pages an inbox and a conversation across buckets", async () => {
        const clock = clockBack(5);
        const [dora, eve] = [await make.user(clock.ids), await make.user(clock.ids)];
        const t0 = clock.ms;
        const sent: ChatMessage[] = [];
        for (const ms of [t0 + HOUR, t0 + 2 * BUCKET_MS, t0 + 4 * BUCKET_MS]) {
          clock.set(ms);
          sent.push(message(clock.ids, { kind: "user", id: eve.id }, dora, `d→e at ${ms}`));
          sent.push(message(clock.ids, { kind: "user", id: dora.id }, eve, `e→d at ${ms}`));
        }
        for (const m of sent) await store().appendMessage(m);
        const toEve = sent.filter((m) => m.channel.id === eve.id);
        expect(ids(await walkBackwards((p) => store().listInbox(eve.id, p), 1))).toEqual(ids(byNewest(toEve)));
        expect(ids(await walkBackwards((p) => store().listConversation(dora.id, eve.id, p), 2))).toEqual(ids(byNewest(sent)));
        expect(await store().listConversation(eve.id, dora.id, { after: sent[1]!.id, limit: 100 })).toEqual(byNewest(sent.slice(2)));
      });
    });

    describe("idempotency keys", () => {
      it("answers a repeated key of the same sender with the first message and stores nothing", async () => {
        const room = await make.room();
        const [alice, bob] = [await make.user(), await make.user()];
        const key = (senderId: string) => ({ senderId, key: "retry-1", expiresAtMs: Date.now() + 60_000 });
        const first = message(make.live, { kind: "room", id: room.id }, alice, "once", "c1");
        const again = message(make.live, { kind: "room", id: room.id }, alice, "once (retry)", "c1");
        expect(await store().appendMessage(first, key(alice.id))).toEqual({ message: first, created: true });
        expect(await store().appendMessage(again, key(alice.id))).toEqual({ message: first, created: false });
        const byBob = message(make.live, { kind: "room", id: room.id }, bob, "same key, other sender", "c1");
        expect(await store().appendMessage(byBob, key(bob.id))).toEqual({ message: byBob, created: true });
        expect(await store().listRoomMessages(room.id, { limit: 10 })).toEqual([byBob, first]);
      });

      it("answers a key reused for another channel or text with the first message, unchanged, and stores nothing", async () => {
        const [roomA, roomB] = [await make.room(), await make.room()];
        const [alice, bob] = [await make.user(), await make.user()];
        const key = { senderId: alice.id, key: "reused-1", expiresAtMs: Date.now() + 60_000 };
        const first = message(make.live, { kind: "room", id: roomA.id }, alice, "to A", "reused-1");
        expect(await store().appendMessage(first, key)).toEqual({ message: first, created: true });
        // The store does not judge: it names the first message, and the service compares (services/messages.ts).
        for (const other of [
          message(make.live, { kind: "room", id: roomB.id }, alice, "to A", "reused-1"),
          message(make.live, { kind: "user", id: bob.id }, alice, "to A", "reused-1"),
          message(make.live, { kind: "room", id: roomA.id }, alice, "other text", "reused-1"),
        ]) {
          expect(await store().appendMessage(other, key)).toEqual({ message: first, created: false });
        }
        expect(await store().listRoomMessages(roomA.id, { limit: 10 })).toEqual([first]);
        expect(await store().listRoomMessages(roomB.id, { limit: 10 })).toEqual([]);
        expect(await store().listInbox(bob.id, { limit: 10 })).toEqual([]);
      });

      it("answers racing appends of one key with different bodies with stored messages only", async () => {
        const [roomA, roomB] = [await make.room(), await make.room()];
        const alice = await make.user();
        const key = { senderId: alice.id, key: "race-1", expiresAtMs: Date.now() + 60_000 };
        const attempts = Array.from({ length: 8 }, (_, i) =>
          message(make.live, { kind: "room", id: (i % 2 === 0 ? roomA : roomB).id }, alice, `body ${i}`, "race-1"),
        );
        const results = await Promise.all(attempts.map((m) => store().appendMessage(m, key)));
        const created = results.filter((r) => r.created).map((r) => r.message);
        expect(created.length).toBeGreaterThanOrEqual(1);
        results.forEach((result, i) => {
          if (result.created) expect(result.message).toEqual(attempts[i]);
          else expect(created).toContainEqual(result.message);
        });
        // Exactly the created ones are stored (SQLite: one; Cassandra may store each racer, see the port).
        const stored = [
          ...(await store().listRoomMessages(roomA.id, { limit: 10 })),
          ...(await store().listRoomMessages(roomB.id, { limit: 10 })),
        ];
        expect(ids(stored).sort()).toEqual(ids(created).sort());
      });

      it("deduplicates direct messages in the inbox and the conversation alike", async () => {
        const [alice, bob] = [await make.user(), await make.user()];
        const key = { senderId: alice.id, key: "dm-1", expiresAtMs: Date.now() + 60_000 };
        const first = message(make.live, { kind: "user", id: bob.id }, alice, "hi");
        const again = message(make.live, { kind: "user", id: bob.id }, alice, "hi");
        await store().appendMessage(first, key);
        expect(await store().appendMessage(again, key)).toEqual({ message: first, created: false });
        expect(await store().listInbox(bob.id, { limit: 10 })).toEqual([first]);
        expect(await store().listConversation(bob.id, alice.id, { limit: 10 })).toEqual([first]);
      });

      it("stores the largest direct message the API allows under a key (Cassandra: one logged batch of three copies)", async () => {
        const [alice, bob] = [await make.user(), await make.user()];
        const key = { senderId: alice.id, key: "big-1", expiresAtMs: Date.now() + 60_000 };
        // message.proto: at most 4,000 characters and 16,384 bytes; 4,000 four-byte characters is the most of both.
        const text = "\u{1F600}".repeat(4000);
        const first = message(make.live, { kind: "user", id: bob.id }, alice, text, "big-1");
        expect(await store().appendMessage(first, key)).toEqual({ message: first, created: true });
        expect(await store().appendMessage(message(make.live, { kind: "user", id: bob.id }, alice, text, "big-1"), key)).toEqual({ message: first, created: false });
        expect(await store().listConversation(alice.id, bob.id, { limit: 10 })).toEqual([first]);
      });

      it("does not deduplicate with an expired key", async () => {
        const room = await make.room();
        const alice = await make.user();
        const key = { senderId: alice.id, key: "old", expiresAtMs: Date.now() - 1000 };
        const first = message(make.live, { kind: "room", id: room.id }, alice, "1");
        const second = message(make.live, { kind: "room", id: room.id }, alice, "2");
        expect((await store().appendMessage(first, key)).created).toBe(true);
        expect(await store().appendMessage(second, key)).toEqual({ message: second, created: true });
      });
    });

    describe("messages named by the log (recordMessage, findMessageByKey)", () => {
      it("stores a message written twice once (the posting node and the store writer both write it)", async () => {
        const room = await make.room();
        const alice = await make.user();
        const key = { senderId: alice.id, key: "log-1", expiresAtMs: Date.now() + 60_000 };
        const m = message(make.live, { kind: "room", id: room.id }, alice, "from the log", "log-1");
        const plain = message(make.live, { kind: "room", id: room.id }, alice, "no key");
        for (let i = 0; i < 2; i++) {
          await store().recordMessage(m, key);
          await store().recordMessage(plain);
        }
        expect(await store().listRoomMessages(room.id, { limit: 10 })).toEqual([plain, m]);
        expect(await store().findMessageByKey(alice.id, "log-1")).toEqual(m);
        // appendMessage of an id already stored keeps the stored row.
        expect((await store().appendMessage(plain)).message).toEqual(plain);
        expect(await store().listRoomMessages(room.id, { limit: 10 })).toEqual([plain, m]);
      });

      it("stores a message whose key already names another, and the key keeps naming the first", async () => {
        const room = await make.room();
        const alice = await make.user();
        const key = { senderId: alice.id, key: "log-2", expiresAtMs: Date.now() + 60_000 };
        const first = message(make.live, { kind: "room", id: room.id }, alice, "first", "log-2");
        const later = message(make.live, { kind: "room", id: room.id }, alice, "delivered after the log forgot the key", "log-2");
        await store().recordMessage(first, key);
        await store().recordMessage(later, key);
        expect(await store().listRoomMessages(room.id, { limit: 10 })).toEqual([later, first]);
        expect(await store().findMessageByKey(alice.id, "log-2")).toEqual(first);
      });

      it("finds no message for an unknown, another sender's or an expired key", async () => {
        const room = await make.room();
        const [alice, bob] = [await make.user(), await make.user()];
        const m = message(make.live, { kind: "room", id: room.id }, alice, "x", "log-3");
        await store().appendMessage(m, { senderId: alice.id, key: "log-3", expiresAtMs: Date.now() + 60_000 });
        expect(await store().findMessageByKey(alice.id, "log-3")).toEqual(m);
        expect(await store().findMessageByKey(alice.id, "nope")).toBeUndefined();
        expect(await store().findMessageByKey(bob.id, "log-3")).toBeUndefined();
        const old = message(make.live, { kind: "room", id: room.id }, alice, "y", "log-4");
        await store().recordMessage(old, { senderId: alice.id, key: "log-4", expiresAtMs: Date.now() - 1000 });
        expect(await store().findMessageByKey(alice.id, "log-4")).toBeUndefined();
      });
    });

    describe("revoked tokens", () => {
      it("remembers revoked token ids", async () => {
        const token = make.name("tok");
        expect(await store().isTokenRevoked(token)).toBe(false);
        await store().revokeToken(token, Date.now() + 60_000);
        await store().revokeToken(token, Date.now() + 60_000);
        expect(await store().isTokenRevoked(token)).toBe(true);
        expect(await store().isTokenRevoked(make.name("tok"))).toBe(false);
      });

      it("lists the revocations stored since a time (inclusive), oldest first, with their expiry, not expired ones", async () => {
        const before = Date.now();
        const [first, second, expired] = [make.name("tok"), make.name("tok"), make.name("tok")];
        const mine = (list: readonly Revocation[]) => list.filter((r) => [first, second, expired].includes(r.tokenId));
        await store().revokeToken(first, before + 60_000);
        await store().revokeToken(second, before + 120_000);
        await store().revokeToken(expired, Date.now() - 1000);
        const after = Date.now();

        const listed = mine(await store().listRevocationsSince(before));
        expect(listed.map((r) => r.tokenId)).toEqual([first, second]);
        expect(listed.map((r) => r.expiresAtMs)).toEqual([before + 60_000, before + 120_000]);
        for (const r of listed) expect(r.revokedAtMs).toSatisfy((at: number) => at >= before && at <= after);
        expect(listed[0]!.revokedAtMs).toBeLessThanOrEqual(listed[1]!.revokedAtMs);
        // From long ago (earlier buckets too), and from exactly the second one's time.
        expect(mine(await store().listRevocationsSince(before - 2 * HOUR)).map((r) => r.tokenId)).toEqual([first, second]);
        expect(mine(await store().listRevocationsSince(listed[1]!.revokedAtMs)).map((r) => r.tokenId)).toContain(second);
        expect(mine(await store().listRevocationsSince(after + 1))).toEqual([]);
      });
    });

    readMarkerContract(store, make, clockBack);

    describe("single-use values", () => {
      it("redeems a value once, whatever the number of concurrent attempts", async () => {
        const nonce = make.name("nonce");
        const attempts = await Promise.all(Array.from({ length: 8 }, () => store().redeemOnce(nonce, Date.now() + 60_000)));
        expect(attempts.filter(Boolean)).toHaveLength(1);
        expect(await store().redeemOnce(nonce, Date.now() + 60_000)).toBe(false);
        expect(await store().redeemOnce(make.name("nonce"), Date.now() + 60_000)).toBe(true);
      });
    });
  });
}
