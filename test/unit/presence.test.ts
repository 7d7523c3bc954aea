/**
 * Presence (src/realtime/presence.ts): batching, merging across processes, expiry of silent
 * ones, resets after a missed report — several Presence instances joined by an in-order bus that
 * the test drives by hand, on a clock the test moves.
 */
import { describe, expect, it } from "vitest";
import type { PresenceReport } from "../../src/domain/model.js";
import { FRAME_LIST_LIMIT, Presence, PRESENCE_BEAT_MS, PRESENCE_TTL_MS, REPORT_MEMBER_LIMIT } from "../../src/realtime/presence.js";
import type { PresenceFrame } from "../../src/realtime/stream-contract.js";

/** Processes on one bus: reports queue until flush(), then reach every process in order (or are dropped). */
class Cluster {
  nowMs = 1_000_000;
  readonly queue: PresenceReport[] = [];
  readonly published: PresenceReport[] = [];
  readonly processes: { presence: Presence; frames: PresenceFrame[] }[] = [];
  /** Reports of this origin are lost from now on (a bus that dropped them). */
  readonly dropping = new Set<string>();

  add(origin: string): { presence: Presence; frames: PresenceFrame[] } {
    const frames: PresenceFrame[] = [];
    const presence = new Presence({
      origin,
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
});
