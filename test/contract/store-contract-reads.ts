/**
 * The store contract's read-marker cases (a part of store-contract.ts, in its own file to keep
 * each small): markers only rise, per reader and channel, under concurrent writers too; message
 * stubs list what the message listings list, reduced to id and sender, across day buckets.
 */
import { describe, expect, it } from "vitest";
import { BUCKET_MS } from "../../src/domain/ids.js";
import type { ChatMessage, MessageStub } from "../../src/domain/model.js";
import type { Store } from "../../src/store/store.js";
import { type FakeClock, type Fixtures, message } from "./store-fixtures.js";

const HOUR = 3_600_000;
const stubsOf = (messages: readonly ChatMessage[]): MessageStub[] =>
  [...messages].reverse().map((m) => ({ id: m.id, senderId: m.senderId }));

/** Registers the cases inside the adapter's contract suite. */
export function readMarkerContract(store: () => Store, make: Fixtures, clockBack: (bucketsBack: number) => FakeClock): void {
  describe("read markers", () => {
    it("only ever raises a marker, per reader and channel, and answers the marker as stored", async () => {
      const room = await make.room();
      const [alice, bob] = [await make.user(), await make.user()];
      const channel = { kind: "room", id: room.id } as const;
      const [m3, m5] = [make.live.next(), make.live.next()];
      expect(await store().findReadMarker(alice.id, channel)).toBeUndefined();
      expect(await store().advanceReadMarker(alice.id, channel, m5)).toBe(m5);
      expect(await store().advanceReadMarker(alice.id, channel, m3)).toBe(m5);
      expect(await store().advanceReadMarker(alice.id, channel, m5)).toBe(m5);
      expect(await store().findReadMarker(alice.id, channel)).toBe(m5);
      // Another reader, the same id as a direct conversation, another room: each its own marker.
      expect(await store().findReadMarker(bob.id, channel)).toBeUndefined();
      expect(await store().findReadMarker(alice.id, { kind: "direct", withUserId: room.id })).toBeUndefined();
      expect(await store().advanceReadMarker(alice.id, { kind: "direct", withUserId: bob.id }, m3)).toBe(m3);
      expect(await store().findReadMarker(bob.id, { kind: "direct", withUserId: alice.id })).toBeUndefined();
      expect(await store().findReadMarker(alice.id, channel)).toBe(m5);
    });

    it("ends at the newest of concurrent advances, whatever order they land in", async () => {
      const room = await make.room();
      const alice = await make.user();
      const channel = { kind: "room", id: room.id } as const;
      const marks = Array.from({ length: 12 }, () => make.live.next());
      const shuffled = [...marks].sort(() => Math.random() - 0.5);
      const answers = await Promise.all(shuffled.map((id) => store().advanceReadMarker(alice.id, channel, id)));
      answers.forEach((answer, i) => expect(BigInt(answer)).toBeGreaterThanOrEqual(BigInt(shuffled[i]!)));
      expect(await store().findReadMarker(alice.id, channel)).toBe(marks[marks.length - 1]);
      expect(await store().advanceReadMarker(alice.id, channel, marks[0]!)).toBe(marks[marks.length - 1]);
    });

    it("lists a room's message stubs and a conversation's (both ways) across buckets, newest first, between cursors", async () => {
      const clock = clockBack(4);
      const room = await make.room(clock.ids);
      const [alice, bob, carol] = [await make.user(clock.ids), await make.user(clock.ids), await make.user(clock.ids)];
      const t0 = clock.ms;
      const inRoom: ChatMessage[] = [];
      const between: ChatMessage[] = [];
      for (const [i, ms] of [t0 + HOUR, t0 + BUCKET_MS, t0 + 3 * BUCKET_MS].entries()) {
        clock.set(ms);
        inRoom.push(message(clock.ids, { kind: "room", id: room.id }, i % 2 ? bob : alice, `room ${i}`));
        between.push(message(clock.ids, { kind: "user", id: bob.id }, alice, `a→b ${i}`));
        between.push(message(clock.ids, { kind: "user", id: alice.id }, bob, `b→a ${i}`));
      }
      const elsewhere = [
        message(make.live, { kind: "user", id: alice.id }, carol, "c→a"),
        message(make.live, { kind: "room", id: (await make.room()).id }, alice, "other room"),
      ];
      for (const m of [...inRoom, ...between, ...elsewhere]) await store().appendMessage(m);

      const roomChannel = { kind: "room", id: room.id } as const;
      expect(await store().listMessageStubs(alice.id, roomChannel, { limit: 100 })).toEqual(stubsOf(inRoom));
      expect(await store().listMessageStubs(carol.id, roomChannel, { after: inRoom[0]!.id, limit: 100 })).toEqual(stubsOf(inRoom.slice(1)));
      expect(await store().listMessageStubs(alice.id, roomChannel, { before: inRoom[2]!.id, limit: 1 })).toEqual(stubsOf(inRoom.slice(1, 2)));
      expect(await store().listMessageStubs(alice.id, { kind: "direct", withUserId: bob.id }, { limit: 100 })).toEqual(stubsOf(between));
      expect(await store().listMessageStubs(bob.id, { kind: "direct", withUserId: alice.id }, { limit: 100 })).toEqual(stubsOf(between));
      const middle = { after: between[0]!.id, before: between[5]!.id, limit: 100 };
      expect(await store().listMessageStubs(bob.id, { kind: "direct", withUserId: alice.id }, middle)).toEqual(stubsOf(between.slice(1, 5)));
      expect(await store().listMessageStubs(carol.id, { kind: "direct", withUserId: bob.id }, { limit: 100 })).toEqual([]);
      // One message exactly: the cursors around its id (what MarkRead checks).
      const one = inRoom[1]!;
      const around = { after: (BigInt(one.id) - 1n).toString(), before: (BigInt(one.id) + 1n).toString(), limit: 1 };
      expect(await store().listMessageStubs(alice.id, roomChannel, around)).toEqual(stubsOf([one]));
      expect(await store().listMessageStubs(alice.id, { kind: "direct", withUserId: bob.id }, around)).toEqual([]);
    });
  });
}
