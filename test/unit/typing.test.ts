/**
 * services/typing.ts: what a SetTyping / SetDirectTyping call publishes — the event, its `until`,
 * the 2 s throttle per typist and channel (a stop always through, and ending the window), the
 * bounded memory of windows, NOT_FOUND for a missing room or user, and a bus failure reported, not
 * thrown — with a fake clock, the in-process bus, and rooms and users in memory.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { BusEvent } from "../../src/bus/bus.js";
import { MemoryBus } from "../../src/bus/memory/memory-bus.js";
import { NotFoundError } from "../../src/domain/errors.js";
import type { RoomRecord, Typing, UserRecord } from "../../src/domain/model.js";
import { TYPING_THROTTLE_MS, TYPING_TTL_MS, TypingIndicators, type TypingIndicatorsDeps } from "../../src/services/typing.js";

const alice = { userId: "11", username: "alice" };
const bob = { userId: "22", username: "bob" };
const rooms = new Map<string, RoomRecord>([
  ["100", { id: "100", name: "one", createdBy: "11", createdAtMs: 0 }],
  ["200", { id: "200", name: "two", createdBy: "11", createdAtMs: 0 }],
]);
const users = new Map<string, UserRecord>([
  ["11", { id: "11", username: "alice", createdAtMs: 0 }],
  ["22", { id: "22", username: "bob", createdAtMs: 0 }],
]);

let nowMs: number;
let published: BusEvent[];

async function indicators(extra: Partial<TypingIndicatorsDeps> = {}): Promise<TypingIndicators> {
  const bus = new MemoryBus();
  await bus.start((event) => published.push(event));
  return new TypingIndicators({
    store: { findUserById: async (id) => users.get(id) },
    rooms: {
      get: async (id) => {
        const room = rooms.get(id);
        if (!room) throw new NotFoundError(`room ${id} does not exist`);
        return room;
      },
    },
    bus,
    nowMs: () => nowMs,
    ...extra,
  });
}

/** The typing notices published so far. */
const notices = (): Typing[] => published.map((e) => (e.type === "typing" ? e.typing : expect.fail(`not a typing event: ${e.type}`)));

beforeEach(() => {
  nowMs = 1_700_000_000_000;
  published = [];
});

describe("TypingIndicators", () => {
  it("publishes one typing event to the room, shown for TYPING_TTL_MS", async () => {
    const typing = await indicators();
    await typing.inRoom(alice, "100", false);
    expect(notices()).toEqual([{ channel: { kind: "room", id: "100" }, typistId: "11", typistName: "alice", untilMs: nowMs + TYPING_TTL_MS, stopped: false }]);
  });

  it("addresses direct typing to the peer's inbox", async () => {
    const typing = await indicators();
    await typing.inConversation(alice, "22", false);
    expect(notices()).toEqual([{ channel: { kind: "user", id: "22" }, typistId: "11", typistName: "alice", untilMs: nowMs + TYPING_TTL_MS, stopped: false }]);
  });

  it("publishes nothing for a repeat within the window, and again once it has passed", async () => {
    const typing = await indicators();
    const start = nowMs;
    await typing.inRoom(alice, "100", false);
    nowMs = start + TYPING_THROTTLE_MS - 1;
    await typing.inRoom(alice, "100", false);
    expect(notices()).toHaveLength(1);
    nowMs = start + TYPING_THROTTLE_MS;
    await typing.inRoom(alice, "100", false);
    expect(notices().map((n) => n.untilMs)).toEqual([start + TYPING_TTL_MS, start + TYPING_THROTTLE_MS + TYPING_TTL_MS]);
  });

  it("keeps one window per typist and channel", async () => {
    const typing = await indicators();
    await typing.inRoom(alice, "100", false);
    await typing.inRoom(alice, "200", false);
    await typing.inRoom(bob, "100", false);
    await typing.inConversation(alice, "22", false);
    await typing.inConversation(bob, "11", false);
    // Repeats of each, all within their windows.
    await typing.inRoom(alice, "100", false);
    await typing.inConversation(bob, "11", false);
    expect(notices().map((n) => `${n.typistName}>${n.channel.kind}:${n.channel.id}`)).toEqual([
      "alice>room:100",
      "alice>room:200",
      "bob>room:100",
      "alice>user:22",
      "bob>user:11",
    ]);
  });

  it("always publishes a stop (until = now), and a start right after it goes through", async () => {
    const typing = await indicators();
    const start = nowMs;
    await typing.inRoom(alice, "100", false);
    nowMs += 10;
    await typing.inRoom(alice, "100", true);
    await typing.inRoom(alice, "100", true);
    nowMs += 10;
    await typing.inRoom(alice, "100", false);
    expect(notices().map((n) => [n.stopped, n.untilMs])).toEqual([
      [false, start + TYPING_TTL_MS],
      [true, start + 10],
      [true, start + 10],
      [false, start + 20 + TYPING_TTL_MS],
    ]);
  });

  it("does not hold a window open when the clock went back", async () => {
    const typing = await indicators();
    await typing.inRoom(alice, "100", false);
    nowMs -= 60_000;
    await typing.inRoom(alice, "100", false);
    expect(notices()).toHaveLength(2);
  });

  it("remembers at most its bound of windows, forgetting expired ones first, then the oldest", async () => {
    const typing = await indicators({ throttleEntries: 3 });
    for (const room of ["100", "200"]) await typing.inRoom(alice, room, false);
    nowMs += TYPING_THROTTLE_MS;
    // Both windows have passed: the next start forgets them.
    await typing.inConversation(alice, "22", false);
    expect(typing.remembered).toBe(1);
    for (const room of ["100", "200"]) await typing.inRoom(alice, room, false);
    expect(typing.remembered).toBe(3);
    // Full of open windows: the oldest (alice>user:22) goes, so its repeat publishes again (once).
    await typing.inRoom(bob, "100", false);
    expect(typing.remembered).toBe(3);
    const before = notices().length;
    await typing.inConversation(alice, "22", false);
    await typing.inRoom(alice, "200", false);
    expect(notices().length - before).toBe(1);
    expect(typing.remembered).toBe(3);
  });

  it("refuses a missing room or user with NotFoundError and publishes nothing", async () => {
    const typing = await indicators();
    await expect(typing.inRoom(alice, "999", false)).rejects.toThrow(new NotFoundError("room 999 does not exist"));
    await expect(typing.inConversation(alice, "999", false)).rejects.toThrow(new NotFoundError("user 999 does not exist"));
    expect(published).toEqual([]);
  });

  it("reports a bus that refuses the event, and answers all the same", async () => {
    const failures: unknown[] = [];
    const refused = new Error("bus down");
    const typing = new TypingIndicators({
      store: { findUserById: async (id) => users.get(id) },
      rooms: { get: async (id) => rooms.get(id)! },
      bus: { publish: () => Promise.reject(refused), start: async () => {}, close: async () => {} },
      onUnpublished: (error) => failures.push(error),
      nowMs: () => nowMs,
    });
    await typing.inRoom(alice, "100", false);
    await Promise.resolve();
    expect(failures).toEqual([refused]);
  });
});
