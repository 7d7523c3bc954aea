/**
 * Presence (src/realtime/presence.ts): batching, merging across processes, expiry of silent
 * ones, resets after a missed report — several Presence instances joined by an in-order bus that
 * the test drives by hand, on a clock the test moves.
 */
import { describe, expect, it, vi } from "vitest";
import type { PresenceMember, PresenceReport, PresenceRoomReport } from "../../src/domain/model.js";
import { FRAME_LIST_LIMIT, Presence, PRESENCE_BATCH_MS, PRESENCE_BEAT_MS, PRESENCE_TTL_MS, REPORT_MEMBER_LIMIT, type PresenceTimings } from "../../src/realtime/presence.js";
import type { PresenceFrame } from "../../src/realtime/stream-contract.js";

/** Processes on one bus: reports queue until flush(), then reach every process in order (or are dropped). */
class Cluster {
  nowMs = 1_000_000;
  readonly queue: PresenceReport[] = [];
  readonly published: PresenceReport[] = [];
  readonly processes: { presence: Presence; frames: PresenceFrame[] }[] = [];
  /** Reports of this origin are lost from now on (a bus that dropped them). */
  readonly dropping = new Set<string>();

  add(origin: string, timings?: Partial<PresenceTimings>): { presence: Presence; frames: PresenceFrame[] } {
    const frames: PresenceFrame[] = [];
    const presence = new Presence({
      origin,
      timings,
      nowMs: () => this.nowMs,
      publish: async (report) => {
        this.published.push(report);
        if (!this.dropping.has(report.origin)) this.queue.push(report);
      },
    });
    presence.listen((frame) => frames.push(frame));
    const process = { presence, frames };
    this.processes.push(process);
    return process;
  }

  /** Delivers every queued report to every process, in order. */
  flush(): void {
    while (this.queue.length > 0) {
      const report = this.queue.shift()!;
      for (const p of this.processes) p.presence.apply(report);
    }
  }

  /** One batch window on every process, then delivery. */
  tick(ms = 1_000): void {
    this.nowMs += ms;
    for (const p of this.processes) p.presence.tick();
    this.flush();
  }

  /** Ticks until every process has settled (asks answered, resets applied). */
  settle(): void {
    for (let i = 0; i < 12; i++) this.tick();
  }
}

const member = (n: number) => ({ userId: String(n), username: `user${String(n).padStart(5, "0")}` });
/** Members `from`…`to`, in order. */
const members = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => member(from + i));
const ids = (list: readonly PresenceMember[]) => list.map((m) => m.userId);
/** A whole report: an empty, non-reset heartbeat unless told otherwise. */
const report = (fields: Pick<PresenceReport, "origin" | "seq"> & Partial<PresenceReport>): PresenceReport => ({ reset: false, partial: false, ask: false, gone: false, rooms: [], ...fields });
const room = (roomId: string, joined: readonly PresenceMember[], left: readonly string[] = []): PresenceRoomReport => ({ roomId, joined, left });
const frame = (roomId: string, count: number, joined: readonly PresenceMember[], left: readonly PresenceMember[], truncated = false): PresenceFrame => ({ kind: "presence", roomId, count, joined, left, snapshot: false, truncated });

/** One process whose reports are kept, not delivered (apply() is driven by hand): for exact reports. */
function lone() {
  const clock = { nowMs: 1_000_000 };
  const published: PresenceReport[] = [];
  const frames: PresenceFrame[] = [];
  const presence = new Presence({ origin: "a", nowMs: () => clock.nowMs, publish: async (r) => void published.push(r) });
  presence.listen((f) => frames.push(f));
  /** One batch window later. */
  const tick = () => {
    clock.nowMs += PRESENCE_BATCH_MS;
    presence.tick();
  };
  return { clock, published, frames, presence, tick };
}

describe("Presence", () => {
  it("batches joins: 1,000 streams opening in one window cost one report and one frame per room, not 1,000", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    cluster.settle();
    cluster.published.length = 0;
    a.frames.length = 0;
    for (let n = 1; n <= 1_000; n++) a.presence.enter("7", member(n));
    cluster.tick();
    const reports = cluster.published.filter((r) => r.rooms.length > 0);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.rooms[0]!.joined).toHaveLength(1_000);
    expect(a.frames).toHaveLength(1);
    expect(a.frames[0]).toMatchObject({ roomId: "7", count: 1_000, snapshot: false, truncated: true, left: [] });
    expect(a.frames[0]!.joined).toHaveLength(FRAME_LIST_LIMIT);
    expect(a.presence.count("7")).toBe(1_000);
  });

  it("counts a user once however many streams they hold, and lets them leave with the last one", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    cluster.settle();
    a.presence.enter("7", member(1));
    a.presence.enter("7", member(1));
    cluster.tick();
    expect(a.presence.count("7")).toBe(1);
    a.presence.leave("7", "1");
    cluster.tick();
    expect(a.presence.count("7")).toBe(1);
    a.frames.length = 0;
    a.presence.leave("7", "1");
    cluster.tick();
    expect(a.presence.count("7")).toBe(0);
    expect(a.frames).toEqual([{ kind: "presence", roomId: "7", count: 0, joined: [], left: [member(1)], snapshot: false, truncated: false }]);
    // A leave of a stream never entered changes nothing.
    a.presence.leave("7", "1");
    a.presence.leave("8", "2");
    cluster.tick();
    expect(a.frames).toHaveLength(1);
  });

  it("a join and a leave within one window cancel out: nothing is reported, no frame", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    cluster.settle();
    cluster.published.length = 0;
    a.frames.length = 0;
    a.presence.enter("7", member(1));
    a.presence.leave("7", "1");
    cluster.tick();
    expect(cluster.published.filter((r) => r.rooms.length > 0)).toEqual([]);
    expect(a.frames).toEqual([]);
  });

  it("merges processes: a user on two is present until both let go; every process sees the same", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    a.presence.enter("7", member(1));
    b.presence.enter("7", member(1));
    b.presence.enter("7", member(2));
    cluster.tick();
    for (const p of [a, b]) {
      expect(p.presence.count("7")).toBe(2);
      expect(p.presence.members("7", 10)).toEqual([member(1), member(2)]);
    }
    a.presence.leave("7", "1");
    cluster.tick();
    expect(b.presence.count("7")).toBe(2);
    b.presence.leave("7", "1");
    cluster.tick();
    expect(a.presence.members("7", 10)).toEqual([member(2)]);
    expect(b.presence.members("7", 10)).toEqual([member(2)]);
  });

  it("a silent process's users leave after PRESENCE_TTL (on the receiver's clock), not before; its own users never expire", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    a.presence.enter("7", member(1));
    b.presence.enter("7", member(2));
    cluster.tick();
    expect(a.presence.count("7")).toBe(2);
    // b dies: its reports stop (the process is gone; nothing more from it).
    cluster.processes.splice(cluster.processes.indexOf(b), 1);
    a.frames.length = 0;
    const diedAt = cluster.nowMs;
    while (cluster.nowMs - diedAt < PRESENCE_TTL_MS) {
      cluster.tick();
      if (cluster.nowMs - diedAt <= PRESENCE_TTL_MS) expect(a.presence.count("7")).toBe(2);
    }
    cluster.tick();
    expect(a.presence.members("7", 10)).toEqual([member(1)]);
    expect(a.frames).toEqual([{ kind: "presence", roomId: "7", count: 1, joined: [], left: [member(2)], snapshot: false, truncated: false }]);
    // a hears nothing but itself for a long time: it keeps its own.
    for (let i = 0; i < 60; i++) cluster.tick();
    expect(a.presence.members("7", 10)).toEqual([member(1)]);
  });

  it("a bus that goes silent past PRESENCE_TTL (every report lost, its own too) expires nobody; views agree again once it returns", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    a.presence.enter("7", member(1));
    b.presence.enter("7", member(2));
    cluster.tick();
    // a reports once more just before the outage: its own last report is newer than b's, the
    // phase in which a guard on its own silence alone would still let b expire.
    cluster.tick();
    cluster.tick();
    a.presence.enter("8", member(3));
    cluster.tick();
    cluster.dropping.add("a");
    cluster.dropping.add("b");
    // A leave meanwhile is lost with everything else.
    b.presence.leave("7", "2");
    for (let i = 0; i < 3 * PRESENCE_TTL_MS / 1_000; i++) cluster.tick();
    for (const p of [a, b]) expect(p.presence.count("7")).toBe(2);
    // The bus returns for a first (its own reports come back) a few seconds before b's do: a
    // counts b's silence from the bus's return, not from before the outage.
    cluster.dropping.delete("a");
    for (let i = 0; i < 10; i++) cluster.tick();
    expect(a.presence.count("7")).toBe(2);
    cluster.dropping.clear();
    cluster.settle();
    for (const p of [a, b]) expect(p.presence.members("7", 10)).toEqual([member(1)]);
    for (const p of [a, b]) expect(p.presence.members("8", 10)).toEqual([member(3)]);
  });

  it("a process that stops says so: its users leave at once", async () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    b.presence.enter("7", member(2));
    cluster.tick();
    expect(a.presence.count("7")).toBe(1);
    await b.presence.stop();
    expect(cluster.queue).toEqual([report({ origin: "b", seq: expect.any(Number), gone: true })]);
    cluster.flush();
    expect(a.presence.count("7")).toBe(0);
  });

  it("a missed report is noticed by the jump in numbers: the receiver asks, every process resets, and the views agree again", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    b.presence.enter("7", member(2));
    b.presence.enter("8", member(3));
    cluster.tick();
    // b's next report (a leave and a join) is lost on the way.
    cluster.dropping.add("b");
    b.presence.leave("7", "2");
    b.presence.enter("9", member(4));
    cluster.tick();
    cluster.dropping.delete("b");
    expect(a.presence.count("7")).toBe(1);
    cluster.nowMs += PRESENCE_BEAT_MS;
    cluster.settle();
    for (const p of [a, b]) {
      expect(p.presence.count("7")).toBe(0);
      expect(p.presence.members("8", 10)).toEqual([member(3)]);
      expect(p.presence.members("9", 10)).toEqual([member(4)]);
    }
  });

  it("a newcomer learns everyone present from the others' resets, and a reset in chunks does not flicker", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const users = REPORT_MEMBER_LIMIT * 2 + 5;
    for (let n = 1; n <= users; n++) a.presence.enter("7", member(n));
    cluster.settle();
    expect(a.presence.count("7")).toBe(users);
    const c = cluster.add("c");
    cluster.settle();
    expect(c.presence.count("7")).toBe(users);
    // Resets sent meanwhile came in chunks; a process that already knew everyone saw no one leave.
    expect(cluster.published.some((r) => r.reset && r.partial)).toBe(true);
    expect(a.frames.every((f) => f.left.length === 0)).toBe(true);
    expect(c.frames.every((f) => f.left.length === 0)).toBe(true);
  });

  it("a stream's snapshot lists everyone up to the frame limit, past it only the count", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    for (let n = 1; n <= FRAME_LIST_LIMIT; n++) a.presence.enter("7", member(n));
    cluster.settle();
    const small = a.presence.snapshot("7");
    expect(small).toMatchObject({ kind: "presence", roomId: "7", count: FRAME_LIST_LIMIT, snapshot: true, truncated: false, left: [] });
    expect(small.joined).toHaveLength(FRAME_LIST_LIMIT);
    a.presence.enter("7", member(FRAME_LIST_LIMIT + 1));
    cluster.tick();
    expect(a.presence.snapshot("7")).toEqual({ kind: "presence", roomId: "7", count: FRAME_LIST_LIMIT + 1, joined: [], left: [], snapshot: true, truncated: true });
    expect(a.presence.snapshot("404")).toEqual({ kind: "presence", roomId: "404", count: 0, joined: [], left: [], snapshot: true, truncated: false });
  });

  it("beats: a process with nothing to say still reports once per PRESENCE_BEAT_MS, and only then", () => {
    const cluster = new Cluster();
    cluster.add("a");
    cluster.settle();
    cluster.published.length = 0;
    for (let i = 0; i < 20; i++) cluster.tick();
    // 20 s of silence: four heartbeats (one per 5 s), all empty.
    expect(cluster.published.length).toBe(20_000 / PRESENCE_BEAT_MS);
    expect(cluster.published.every((r) => r.rooms.length === 0 && !r.reset && !r.gone)).toBe(true);
  });

  it("a new process's first report is a reset of what it holds, asking everyone for theirs; then an empty heartbeat exactly one beat after its last report", () => {
    const { published, presence, tick } = lone();
    presence.tick();
    expect(published).toEqual([report({ origin: "a", seq: 1, reset: true, ask: true })]);
    for (let ms = PRESENCE_BATCH_MS; ms < PRESENCE_BEAT_MS; ms += PRESENCE_BATCH_MS) tick();
    expect(published).toHaveLength(1);
    tick();
    expect(published).toEqual([report({ origin: "a", seq: 1, reset: true, ask: true }), report({ origin: "a", seq: 2 })]);
  });

  it("asks at most once a beat: a stranger heard mid-way just after an ask is asked about exactly one beat later, once", () => {
    const { published, presence, tick } = lone();
    presence.tick();
    // An origin first heard of at report 7: its earlier reports never reached this process.
    presence.apply(report({ origin: "b", seq: 7 }));
    for (let ms = PRESENCE_BATCH_MS; ms < PRESENCE_BEAT_MS; ms += PRESENCE_BATCH_MS) tick();
    expect(published).toHaveLength(1);
    tick();
    expect(published.slice(1)).toEqual([report({ origin: "a", seq: 2, ask: true })]);
    for (let ms = 0; ms < PRESENCE_BEAT_MS; ms += PRESENCE_BATCH_MS) tick();
    expect(published.slice(1)).toEqual([report({ origin: "a", seq: 2, ask: true }), report({ origin: "a", seq: 3 })]);
  });

  it("a report over REPORT_MEMBER_LIMIT goes in chunks, a room over several; only the last chunk asks", () => {
    const { clock, published, presence, tick } = lone();
    presence.tick();
    presence.apply(report({ origin: "b", seq: 7 }));
    clock.nowMs += PRESENCE_BEAT_MS - PRESENCE_BATCH_MS;
    for (const m of members(1, 1_500)) presence.enter("7", m);
    tick();
    expect(published.slice(1)).toEqual([
      report({ origin: "a", seq: 2, rooms: [room("7", members(1, 1_000))] }),
      report({ origin: "a", seq: 3, ask: true, rooms: [room("7", members(1_001, 1_500))] }),
    ]);
    for (const m of members(1, 1_500)) presence.leave("7", m.userId);
    tick();
    expect(published.slice(3)).toEqual([
      report({ origin: "a", seq: 4, rooms: [room("7", [], ids(members(1, 1_000)))] }),
      report({ origin: "a", seq: 5, rooms: [room("7", [], ids(members(1_001, 1_500)))] }),
    ]);
  });

  it("chunk boundaries: exactly REPORT_MEMBER_LIMIT members is one report, one more is two; small rooms share a report", () => {
    const { published, presence, tick } = lone();
    presence.tick();
    published.length = 0;
    for (const m of members(1, 1_000)) presence.enter("1", m);
    tick();
    expect(published).toEqual([report({ origin: "a", seq: 2, rooms: [room("1", members(1, 1_000))] })]);
    published.length = 0;
    for (const m of members(2_001, 3_001)) presence.enter("2", m);
    tick();
    expect(published).toEqual([
      report({ origin: "a", seq: 3, rooms: [room("2", members(2_001, 3_000))] }),
      report({ origin: "a", seq: 4, rooms: [room("2", [member(3_001)])] }),
    ]);
    published.length = 0;
    for (const m of members(4_001, 4_600)) presence.enter("3", m);
    for (const m of members(5_001, 5_400)) presence.enter("4", m);
    tick();
    expect(published).toEqual([report({ origin: "a", seq: 5, rooms: [room("3", members(4_001, 4_600)), room("4", members(5_001, 5_400))] })]);
    published.length = 0;
    for (const m of members(6_001, 6_600)) presence.enter("5", m);
    for (const m of members(7_001, 7_401)) presence.enter("6", m);
    tick();
    expect(published).toEqual([
      report({ origin: "a", seq: 6, rooms: [room("5", members(6_001, 6_600))] }),
      report({ origin: "a", seq: 7, rooms: [room("6", members(7_001, 7_401))] }),
    ]);
    // 600 leaving and 600 others joining one room in one window: no empty report, nobody lost.
    published.length = 0;
    for (const m of members(4_001, 4_600)) presence.leave("3", m.userId);
    for (const m of members(8_001, 8_600)) presence.enter("3", m);
    tick();
    expect(published.every((r) => r.rooms.length > 0)).toBe(true);
    expect(published.flatMap((r) => r.rooms.flatMap((x) => x.left))).toEqual(ids(members(4_001, 4_600)));
    expect(published.flatMap((r) => r.rooms.flatMap((x) => x.joined))).toEqual(members(8_001, 8_600));
  });

  it("a reset in chunks: partial on all but the last, which alone asks", () => {
    const { published, presence } = lone();
    for (const m of members(1, 1_500)) presence.enter("7", m);
    presence.tick();
    expect(published).toEqual([
      report({ origin: "a", seq: 1, reset: true, partial: true, rooms: [room("7", members(1, 1_000))] }),
      report({ origin: "a", seq: 2, reset: true, ask: true, rooms: [room("7", members(1_001, 1_500))] }),
    ]);
  });

  it("an answer to an ask is a reset of exactly what is open: joins and leaves within one window cancel, rooms left empty are not listed", () => {
    const { published, presence, tick } = lone();
    presence.tick();
    published.length = 0;
    presence.enter("7", member(1));
    presence.enter("7", member(2));
    presence.leave("7", "2");
    presence.enter("8", member(3));
    presence.leave("8", "3");
    // Leaves of streams never entered: an unknown user in a known room, an unknown room.
    presence.leave("7", "9");
    presence.leave("404", "1");
    tick();
    expect(published).toEqual([report({ origin: "a", seq: 2, rooms: [room("7", [member(1)])] })]);
    // A user already reported who leaves and comes back within one window: nothing to report.
    presence.leave("7", "1");
    presence.enter("7", member(1));
    tick();
    expect(published).toHaveLength(1);
    presence.apply(report({ origin: "b", seq: 1, ask: true }));
    tick();
    expect(published.slice(1)).toEqual([report({ origin: "a", seq: 3, reset: true, rooms: [room("7", [member(1)])] })]);
  });

  it("members() lists by username, then by id, up to the limit", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    cluster.settle();
    const bob = (id: string) => ({ userId: id, username: "bob" });
    const amy = (id: string) => ({ userId: id, username: "amy" });
    // Ids run against the names (bob's are lower), and each name's ids arrive in another order.
    for (const m of [bob("1"), amy("6"), amy("5"), amy("4"), bob("2"), bob("3")]) a.presence.enter("7", m);
    cluster.tick();
    expect(a.presence.members("7", 10)).toEqual([amy("4"), amy("5"), amy("6"), bob("1"), bob("2"), bob("3")]);
    expect(a.presence.members("7", 4)).toEqual([amy("4"), amy("5"), amy("6"), bob("1")]);
    expect(a.presence.members("404", 4)).toEqual([]);
  });

  it("frames list up to FRAME_LIST_LIMIT joined and left: exactly the limit is not truncated, one more is", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    cluster.settle();
    const frames = a.frames;
    frames.length = 0;
    for (const m of members(1, FRAME_LIST_LIMIT)) a.presence.enter("7", m);
    cluster.tick();
    for (const m of members(1_001, 1_000 + FRAME_LIST_LIMIT + 1)) a.presence.enter("8", m);
    cluster.tick();
    expect(frames).toEqual([
      frame("7", FRAME_LIST_LIMIT, members(1, FRAME_LIST_LIMIT), []),
      frame("8", FRAME_LIST_LIMIT + 1, members(1_001, 1_000 + FRAME_LIST_LIMIT), [], true),
    ]);
    frames.length = 0;
    for (const m of members(1, FRAME_LIST_LIMIT)) a.presence.leave("7", m.userId);
    cluster.tick();
    for (const m of members(1_001, 1_000 + FRAME_LIST_LIMIT + 1)) a.presence.leave("8", m.userId);
    cluster.tick();
    expect(frames).toEqual([frame("7", 0, [], members(1, FRAME_LIST_LIMIT)), frame("8", 0, [], members(1_001, 1_000 + FRAME_LIST_LIMIT), true)]);
  });

  it("a user who joins and leaves within one report shows as neither; a room with no one else changing gets no frame", () => {
    const { frames, presence } = lone();
    presence.apply(report({ origin: "b", seq: 1, rooms: [room("7", [member(4)])] }));
    frames.length = 0;
    presence.apply(report({ origin: "b", seq: 2, rooms: [room("7", [member(1), member(2)], ["1", "4"]), room("8", [member(3)], ["3"])] }));
    expect(frames).toEqual([frame("7", 1, [member(2)], [member(4)])]);
    expect(presence.members("7", 10)).toEqual([member(2)]);
    expect(presence.count("8")).toBe(0);
  });

  it("applies reports with no listener yet, and a `gone` of an origin never heard of changes nothing", () => {
    const presence = new Presence({ origin: "a", nowMs: () => 0, publish: async () => undefined });
    presence.apply(report({ origin: "b", seq: 1, rooms: [room("7", [member(1)])] }));
    expect(presence.members("7", 10)).toEqual([member(1)]);
    const frames: PresenceFrame[] = [];
    presence.listen((f) => frames.push(f));
    presence.apply(report({ origin: "z", seq: 1, gone: true }));
    expect(frames).toEqual([]);
    expect(presence.count("7")).toBe(1);
  });

  it("a reset of users the receiver already has from that origin does not count them twice: one leave later, they are gone", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    a.presence.enter("7", member(1));
    cluster.tick();
    // A newcomer asks: a resets, listing member 1 again.
    cluster.add("c");
    cluster.settle();
    expect(cluster.published.some((r) => r.origin === "a" && r.reset && r.rooms.length > 0)).toBe(true);
    a.presence.leave("7", "1");
    cluster.tick();
    for (const p of cluster.processes) expect(p.presence.count("7")).toBe(0);
    expect(b.frames.at(-1)).toEqual(frame("7", 0, [], [member(1)]));
  });

  it("a leave an origin never reported the join of (that report was lost) does not take the user from another origin", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    b.presence.enter("7", member(2));
    cluster.tick();
    cluster.dropping.add("a");
    a.presence.enter("7", member(2));
    a.presence.enter("8", member(2));
    cluster.tick();
    cluster.dropping.delete("a");
    a.frames.length = 0;
    b.frames.length = 0;
    a.presence.leave("7", "2");
    a.presence.leave("8", "2");
    cluster.tick();
    for (const p of [a, b]) {
      expect(p.presence.members("7", 10)).toEqual([member(2)]);
      expect(p.presence.count("8")).toBe(0);
      expect(p.frames).toEqual([]);
    }
  });

  it("a process that stopped and comes back under the same name is a newcomer: its first report is in order, nobody asks about it", async () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    await b.presence.stop();
    cluster.flush();
    cluster.processes.splice(cluster.processes.indexOf(b), 1);
    cluster.add("b");
    cluster.published.length = 0;
    cluster.settle();
    expect(cluster.published.filter((r) => r.origin === "a" && r.ask)).toEqual([]);
    // It answered the newcomer's ask (with everything it holds: nothing), without asking in turn.
    expect(cluster.published.find((r) => r.origin === "a" && r.reset)).toEqual(report({ origin: "a", seq: expect.any(Number), reset: true }));
    expect(a.presence.count("7")).toBe(0);
  });

  it("its own users never expire, even with timings where the TTL is shorter than the beat", () => {
    const cluster = new Cluster();
    const a = cluster.add("a", { ttlMs: 3_000 });
    cluster.settle();
    a.presence.enter("7", member(1));
    cluster.tick();
    a.frames.length = 0;
    for (let i = 0; i < 20; i++) {
      cluster.tick();
      expect(a.presence.members("7", 10)).toEqual([member(1)]);
    }
    expect(a.frames).toEqual([]);
  });

  it("start() reports every batch window on the real clock (one timer however often called); stop() ends it and says `gone`", async () => {
    vi.useFakeTimers();
    try {
      const published: PresenceReport[] = [];
      const presence = new Presence({ origin: "a", publish: async (r) => void published.push(r) });
      presence.start();
      presence.start();
      vi.advanceTimersByTime(PRESENCE_BATCH_MS - 1);
      expect(published).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(published).toEqual([report({ origin: "a", seq: 1, reset: true, ask: true })]);
      vi.advanceTimersByTime(PRESENCE_BEAT_MS);
      expect(published.slice(1)).toEqual([report({ origin: "a", seq: 2 })]);
      await presence.stop();
      expect(published.slice(2)).toEqual([report({ origin: "a", seq: 3, gone: true })]);
      vi.advanceTimersByTime(10 * PRESENCE_BEAT_MS);
      expect(published).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a report the bus refuses is told to onUnpublished (and swallowed without one)", async () => {
    const refused = new Error("bus down");
    const told: unknown[] = [];
    const presence = new Presence({ origin: "a", nowMs: () => 0, onUnpublished: (error) => told.push(error), publish: async () => Promise.reject(refused) });
    await presence.stop();
    expect(told).toEqual([refused]);
    await expect(new Presence({ origin: "b", publish: async () => Promise.reject(refused) }).stop()).resolves.toBeUndefined();
  });

  it("another origin heard again after a silence is not the bus's return: a dead process's users still leave one TTL after its last report", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    const c = cluster.add("c");
    cluster.settle();
    cluster.dropping.add("c");
    for (let i = 0; i < 11; i++) cluster.tick();
    // b reports once more and dies; c is heard again (after more than two beats) one window later.
    b.presence.enter("7", member(2));
    cluster.tick();
    const diedAt = cluster.nowMs;
    cluster.processes.splice(cluster.processes.indexOf(b), 1);
    cluster.dropping.delete("c");
    c.presence.enter("8", member(3));
    while (cluster.nowMs - diedAt <= PRESENCE_TTL_MS) {
      expect(a.presence.count("7")).toBe(1);
      cluster.tick();
    }
    expect(a.presence.count("7")).toBe(0);
  });

  it("its own report heard again exactly two beats after the last marks the bus's return: the others' silence counts from then", () => {
    const cluster = new Cluster();
    const a = cluster.add("a");
    const b = cluster.add("b");
    cluster.settle();
    b.presence.enter("7", member(2));
    cluster.tick();
    for (let i = 0; i < 3; i++) cluster.tick();
    // a's last report heard before the outage comes 4 s after b's.
    a.presence.enter("8", member(1));
    cluster.tick();
    const lastHeard = cluster.nowMs;
    cluster.dropping.add("a");
    cluster.dropping.add("b");
    while (cluster.nowMs - lastHeard < 2 * PRESENCE_BEAT_MS - 1_000) cluster.tick();
    // a's heartbeat two beats after its last heard report comes back; b's are still lost.
    cluster.dropping.delete("a");
    cluster.tick();
    expect(cluster.published.filter((r) => r.origin === "a").at(-1)).toEqual(report({ origin: "a", seq: expect.any(Number) }));
    for (let i = 0; i < 3; i++) {
      cluster.tick();
      expect(a.presence.count("7")).toBe(1);
    }
    cluster.dropping.clear();
    cluster.settle();
    expect(a.presence.members("7", 10)).toEqual([member(2)]);
  });
});
