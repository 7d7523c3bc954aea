/**
 * services/read-markers.ts: which messages can be marked, monotonic markers, and what counts as
 * unread (others' messages only, sending reads, the cap, the 14-day horizon), and the `read` event
 * a mark publishes to the caller — over a real SQLite store in a temporary directory and the
 * in-process bus.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bus, BusEvent } from "../../src/bus/bus.js";
import { MemoryBus } from "../../src/bus/memory/memory-bus.js";
import { NotFoundError, UnavailableError } from "../../src/domain/errors.js";
import { SnowflakeGenerator } from "../../src/domain/ids.js";
import type { Channel, ChatMessage } from "../../src/domain/model.js";
import { PageTokens } from "../../src/services/page-tokens.js";
import { ReadMarkers, UNREAD_COUNT_CAP, UNREAD_HORIZON_MS } from "../../src/services/read-markers.js";
import { Rooms } from "../../src/services/rooms.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const DAY = 24 * 3600 * 1000;

let dir: string;
let store: SqliteStore;
let rooms: Rooms;
let nowMs = Date.now();
const ids = new SnowflakeGenerator(3, () => nowMs);
let reads: ReadMarkers;
let users = 0;
/** What the marks published, in order. */
const published: BusEvent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parley-read-markers-"));
  store = new SqliteStore({ file: join(dir, "parley.sqlite"), synchronous: "NORMAL" });
  rooms = new Rooms(store, ids, new PageTokens(Buffer.from("read-markers-test")));
  const bus = new MemoryBus();
  await bus.start((event) => published.push(event));
  reads = new ReadMarkers({ store, rooms, bus, nowMs: () => nowMs });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function user(): Promise<{ id: string; username: string }> {
  const username = `reader${++users}`;
  const id = ids.next();
  await store.createUser({ id, username, usernameKey: username, passwordHash: "x", createdAtMs: nowMs });
  return { id, username };
}

async function post(channel: Channel, sender: { id: string; username: string }, count = 1): Promise<ChatMessage[]> {
  const sent: ChatMessage[] = [];
  for (let i = 0; i < count; i++) {
    const m = { id: ids.next(), channel, senderId: sender.id, senderName: sender.username, text: `m${i}`, createdAtMs: nowMs, clientMessageId: "" };
    await store.appendMessage(m);
    sent.push(m);
  }
  return sent;
}

const notFound = (promise: Promise<unknown>): Promise<unknown> => expect(promise).rejects.toBeInstanceOf(NotFoundError);

describe("marking a room read", () => {
  it("keeps the newest marker: mark 5, then 3, stays at 5; unread counts what follows it", async () => {
    const [alice, bob] = [await user(), await user()];
    const room = await rooms.create(`monotonic-${alice.id}`, alice.id);
    const sent = await post({ kind: "room", id: room.id }, bob, 7);
    expect(await reads.markRoom(alice.id, room.id, sent[4]!.id)).toEqual({
      channel: { kind: "room", id: room.id }, lastReadMessageId: sent[4]!.id, unreadCount: 2, moreUnread: false,
    });
    expect((await reads.markRoom(alice.id, room.id, sent[2]!.id)).lastReadMessageId).toBe(sent[4]!.id);
    expect(await reads.state(alice.id, { kind: "room", id: room.id })).toMatchObject({ lastReadMessageId: sent[4]!.id, unreadCount: 2 });
  });

  it("refuses, with NotFoundError, a missing room and an id that is not a message of the room", async () => {
    const alice = await user();
    const [room, other] = [await rooms.create(`here-${alice.id}`, alice.id), await rooms.create(`there-${alice.id}`, alice.id)];
    const [elsewhere] = await post({ kind: "room", id: other.id }, alice);
    const [direct] = await post({ kind: "user", id: alice.id }, alice);
    await notFound(reads.markRoom(alice.id, ids.next(), elsewhere!.id));
    await notFound(reads.markRoom(alice.id, room.id, elsewhere!.id));
    await notFound(reads.markRoom(alice.id, room.id, direct!.id));
    await notFound(reads.markRoom(alice.id, room.id, ids.next()));
    expect(await store.findReadMarker(alice.id, { kind: "room", id: room.id })).toBeUndefined();
  });
});

describe("unread counts", () => {
  it("count others' messages after the marker; the caller's own message reads everything before it", async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const room = await rooms.create(`counts-${alice.id}`, alice.id);
    const channel = { kind: "room", id: room.id } as const;
    expect(await reads.state(alice.id, channel)).toMatchObject({ lastReadMessageId: "0", unreadCount: 0, moreUnread: false });
    await post(channel, bob, 2);
    await post(channel, carol, 1);
    expect((await reads.state(alice.id, channel)).unreadCount).toBe(3);
    await post(channel, alice, 1);
    expect((await reads.state(alice.id, channel)).unreadCount).toBe(0);
    expect((await reads.state(bob.id, channel)).unreadCount).toBe(2);
    await post(channel, bob, 1);
    expect((await reads.state(alice.id, channel)).unreadCount).toBe(1);
    expect((await reads.state(alice.id, channel)).lastReadMessageId).toBe("0");
  });

  it(`stop at ${UNREAD_COUNT_CAP}, and say there are more`, async () => {
    const [alice, bob] = [await user(), await user()];
    const room = await rooms.create(`cap-${alice.id}`, alice.id);
    const channel = { kind: "room", id: room.id } as const;
    const sent = await post(channel, bob, UNREAD_COUNT_CAP + 1);
    expect(await reads.state(alice.id, channel)).toMatchObject({ unreadCount: UNREAD_COUNT_CAP, moreUnread: true });
    expect(await reads.markRoom(alice.id, room.id, sent[0]!.id)).toMatchObject({ unreadCount: UNREAD_COUNT_CAP, moreUnread: false });
    expect(await reads.markRoom(alice.id, room.id, sent[1]!.id)).toMatchObject({ unreadCount: UNREAD_COUNT_CAP - 1, moreUnread: false });
  });

  it("leave out messages older than the horizon", async () => {
    const [alice, bob] = [await user(), await user()];
    const room = await rooms.create(`horizon-${alice.id}`, alice.id);
    const channel = { kind: "room", id: room.id } as const;
    await post(channel, bob, 3);
    nowMs += UNREAD_HORIZON_MS - DAY;
    await post(channel, bob, 1);
    expect((await reads.state(alice.id, channel)).unreadCount).toBe(4);
    nowMs += 2 * DAY;
    expect((await reads.state(alice.id, channel)).unreadCount).toBe(1);
  });
});

describe("direct conversations", () => {
  it("mark a message of the caller's own conversation, sent or received, and nothing else", async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const [toAlice] = await post({ kind: "user", id: alice.id }, bob);
    const [fromAlice] = await post({ kind: "user", id: bob.id }, alice);
    const [carolToBob] = await post({ kind: "user", id: bob.id }, carol);
    expect(await reads.markDirect(alice.id, bob.id, toAlice!.id)).toEqual({
      channel: { kind: "direct", withUserId: bob.id }, lastReadMessageId: toAlice!.id, unreadCount: 0, moreUnread: false,
    });
    expect((await reads.markDirect(alice.id, bob.id, fromAlice!.id)).lastReadMessageId).toBe(fromAlice!.id);
    // Bob and Carol's conversation is not Alice's to mark, whichever peer she names.
    await notFound(reads.markDirect(alice.id, carol.id, carolToBob!.id));
    await notFound(reads.markDirect(alice.id, bob.id, carolToBob!.id));
    expect(await store.findReadMarker(alice.id, { kind: "direct", withUserId: carol.id })).toBeUndefined();
  });

  it("report one read state per peer of an inbox page, in order of appearance, or the one conversation asked for", async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    await post({ kind: "user", id: alice.id }, bob, 2);
    await post({ kind: "user", id: alice.id }, carol, 3);
    await post({ kind: "user", id: carol.id }, alice, 1);
    await post({ kind: "user", id: alice.id }, carol, 1);
    const inbox = await store.listInbox(alice.id, { limit: 50 });
    const states = await reads.directStates(alice.id, inbox);
    expect(states.map((s) => [s.channel, s.unreadCount])).toEqual([
      [{ kind: "direct", withUserId: carol.id }, 1],
      [{ kind: "direct", withUserId: bob.id }, 2],
    ]);
    const one = await reads.directStates(alice.id, [], bob.id);
    expect(one.map((s) => [s.channel, s.unreadCount])).toEqual([[{ kind: "direct", withUserId: bob.id }, 2]]);
    expect((await reads.directStates(bob.id, [], alice.id))[0]?.unreadCount).toBe(0);
  });
});

describe("the read event of a mark", () => {
  it("goes to the caller with the state the mark answered, when the mark stored its message; an older one publishes nothing", async () => {
    const [alice, bob] = [await user(), await user()];
    const room = await rooms.create(`events-${alice.id}`, alice.id);
    const sent = await post({ kind: "room", id: room.id }, bob, 3);
    const [toAlice] = await post({ kind: "user", id: alice.id }, bob);
    const ofAlice = () => published.filter((e) => e.type === "read" && e.userId === alice.id);
    const before = published.length;

    const second = await reads.markRoom(alice.id, room.id, sent[1]!.id);
    expect(ofAlice()).toEqual([{ type: "read", userId: alice.id, state: second }]);
    await reads.markRoom(alice.id, room.id, sent[0]!.id);
    expect(ofAlice()).toHaveLength(1);
    // The same message again re-stores it: the same state once more (a retry is harmless).
    const again = await reads.markRoom(alice.id, room.id, sent[1]!.id);
    const direct = await reads.markDirect(alice.id, bob.id, toAlice!.id);
    expect(ofAlice()).toEqual([
      { type: "read", userId: alice.id, state: second },
      { type: "read", userId: alice.id, state: again },
      { type: "read", userId: alice.id, state: direct },
    ]);
    expect(direct.channel).toEqual({ kind: "direct", withUserId: bob.id });
    // Refused marks publish nothing, and nobody else is addressed.
    await notFound(reads.markRoom(alice.id, room.id, toAlice!.id));
    expect(published.slice(before).every((e) => e.type === "read" && e.userId === alice.id)).toBe(true);
    expect(published.length - before).toBe(3);
  });

  it("is published after the marker is stored: a bus that refuses it fails no mark, and is reported", async () => {
    const refused = new UnavailableError("the message bus (Kafka) did not accept the event");
    const failing: Bus = { publish: () => Promise.reject(refused), start: async () => undefined, close: async () => undefined };
    const reported: unknown[] = [];
    const marks = new ReadMarkers({ store, rooms, bus: failing, nowMs: () => nowMs, onReadUnpublished: (e) => void reported.push(e) });
    const [alice, bob] = [await user(), await user()];
    const room = await rooms.create(`refused-${alice.id}`, alice.id);
    const [sent] = await post({ kind: "room", id: room.id }, bob);
    expect((await marks.markRoom(alice.id, room.id, sent!.id)).lastReadMessageId).toBe(sent!.id);
    expect(await store.findReadMarker(alice.id, { kind: "room", id: room.id })).toBe(sent!.id);
    await expect.poll(() => reported).toEqual([refused]);
  });
});
