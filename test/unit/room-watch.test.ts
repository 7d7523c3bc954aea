/**
 * The room list's stream rule (realtime/room-watch.ts): Ready first; a resume replays the stored
 * rooms from ROOM_RESUME_GRACE_MS of ids before `since`, oldest first, page by page; live rooms
 * follow, never filtered by the position, each room once; overflow, abort and heartbeats. The
 * adversarial case: two nodes whose clocks disagree — a room made on the node that is behind
 * sorts before the one the client last saw, and a resume still brings it.
 */
import { describe, expect, it } from "vitest";
import { ResourceExhaustedError, UnauthenticatedError } from "../../src/domain/errors.js";
import { compareIds, minIdAt, SnowflakeGenerator } from "../../src/domain/ids.js";
import type { RoomRecord } from "../../src/domain/model.js";
import { Hub } from "../../src/realtime/hub.js";
import { ROOM_RESUME_GRACE_MS, watchRooms } from "../../src/realtime/room-watch.js";
import type { Frame } from "../../src/realtime/stream-contract.js";

const limits = { replayLimit: 2, queueLimit: 3, heartbeatMs: 60_000 };

/** A store's room table: listRooms as SQLite and Cassandra answer it (id > afterId, oldest first, at most limit). */
class RoomTable {
  readonly rooms: RoomRecord[] = [];
  reads = 0;
  add(id: string, name = `room ${id}`): RoomRecord {
    const room = { id, name, createdBy: "1", createdAtMs: 0 };
    this.rooms.push(room);
    this.rooms.sort((a, b) => compareIds(a.id, b.id));
    return room;
  }
  listRooms = async (afterId: string, limit: number): Promise<RoomRecord[]> => {
    this.reads++;
    return this.rooms.filter((r) => compareIds(r.id, afterId) > 0).slice(0, limit);
  };
}

/** A node's id generator whose clock is `skewMs` off the real one. */
const nodeIds = (worker: number, skewMs: number) => new SnowflakeGenerator(worker, () => Date.now() + skewMs);

const roomIds = (frames: Frame[]) => frames.flatMap((f) => (f.kind === "room" ? [f.room.id] : []));

async function take(stream: AsyncGenerator<Frame>, n: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  while (frames.length < n) {
    const next = await stream.next();
    if (next.done) break;
    frames.push(next.value);
  }
  return frames;
}

describe("watchRooms", () => {
  it("without since: Ready at the id of now, no store read, then live rooms in bus order", async () => {
    const hub = new Hub();
    const table = new RoomTable();
    const before = minIdAt(Date.now());
    const stream = watchRooms(hub, limits, { since: "", listRooms: table.listRooms, signal: new AbortController().signal });
    const ready = (await stream.next()).value as Extract<Frame, { kind: "ready" }>;
    expect(ready.kind).toBe("ready");
    expect(compareIds(ready.position, before)).toBeGreaterThanOrEqual(0);
    expect(compareIds(ready.position, minIdAt(Date.now()))).toBeLessThanOrEqual(0);
    expect(hub.roomWatcherCount).toBe(1);
    // A live room from a node whose clock is behind sorts before the position: it is sent all the same.
    const behind = nodeIds(1, -30_000).next();
    const ahead = nodeIds(2, +30_000).next();
    for (const id of [ahead, behind]) hub.dispatch({ type: "room_created", room: { id, name: id, createdBy: "1", createdAtMs: 0 } });
    expect(roomIds(await take(stream, 2))).toEqual([ahead, behind]);
    expect(table.reads).toBe(0);
    await stream.return(undefined);
    expect(hub.roomWatcherCount).toBe(0);
  });

  it("resume across clock skew: replays from the grace window before since, oldest first, page by page, so a room of the lagging node is not missed", async () => {
    const hub = new Hub();
    const table = new RoomTable();
    const nodeA = nodeIds(1, +20_000); // 20 s ahead
    const nodeB = nodeIds(2, -20_000); // 20 s behind
    const old = table.add(minIdAt(Date.now() - 10 * ROOM_RESUME_GRACE_MS)); // long before: not replayed
    const seen = table.add(nodeA.next()); // the last room the client received
    const later = table.add(nodeB.next()); // created after it, on the lagging node: a smaller id
    const after = table.add(nodeA.next());
    expect(compareIds(later.id, seen.id)).toBeLessThan(0);
    const stream = watchRooms(hub, limits, { since: seen.id, listRooms: table.listRooms, signal: new AbortController().signal });
    const frames = await take(stream, 4);
    expect(frames[0]).toEqual({ kind: "ready", position: seen.id, heartbeatMs: 60_000 });
    // `later` is replayed (a plain "after since" would have missed it); `seen` comes again (harmless: an upsert).
    expect(roomIds(frames)).toEqual([later.id, seen.id, after.id]);
    expect(roomIds(frames)).not.toContain(old.id);
    expect(table.reads).toBe(2); // pages of replayLimit (2): the second one short, so the last
    await stream.return(undefined);
  });

  it("sends a room that is both replayed and live once; a live room created meanwhile comes after the replay", async () => {
    const hub = new Hub();
    const table = new RoomTable();
    const ids = nodeIds(1, 0);
    const since = table.add(ids.next());
    const both = table.add(ids.next());
    const stream = watchRooms(hub, limits, { since: since.id, listRooms: table.listRooms, signal: new AbortController().signal });
    expect((await stream.next()).value).toMatchObject({ kind: "ready" });
    // Registered before the replay read: the bus brings `both` too, and a new room.
    const fresh = { id: ids.next(), name: "fresh", createdBy: "1", createdAtMs: 0 };
    hub.dispatch({ type: "room_created", room: both });
    hub.dispatch({ type: "room_created", room: fresh });
    expect(roomIds(await take(stream, 3))).toEqual([since.id, both.id, fresh.id]);
    hub.dispatch({ type: "room_created", room: fresh }); // another copy would be a bus fault: still sent (no per-live bookkeeping)
    await stream.return(undefined);
  });

  it("ends with RESOURCE_EXHAUSTED when more rooms wait than the queue holds", async () => {
    const hub = new Hub();
    const stream = watchRooms(hub, limits, { since: "", listRooms: new RoomTable().listRooms, signal: new AbortController().signal });
    await stream.next();
    const ids = nodeIds(1, 0);
    for (let i = 0; i < limits.queueLimit + 1; i++) hub.dispatch({ type: "room_created", room: { id: ids.next(), name: "r", createdBy: "1", createdAtMs: 0 } });
    await expect(stream.next()).rejects.toBeInstanceOf(ResourceExhaustedError);
    expect(hub.roomWatcherCount).toBe(0);
  });

  it("ends a waiting reader on abort: done for a plain stop, the reason for a domain error", async () => {
    for (const [reason, outcome] of [
      [undefined, "done"],
      [new UnauthenticatedError("signed out"), "throws"],
    ] as const) {
      const hub = new Hub();
      const controller = new AbortController();
      const stream = watchRooms(hub, limits, { since: "", listRooms: new RoomTable().listRooms, signal: controller.signal });
      await stream.next();
      const waiting = stream.next();
      controller.abort(reason);
      if (outcome === "done") expect(await waiting).toEqual({ done: true, value: undefined });
      else await expect(waiting).rejects.toBe(reason);
      expect(hub.roomWatcherCount).toBe(0);
    }
  });

  it("sends a heartbeat when idle for a period (the hub's shared ticker)", async () => {
    const hub = new Hub();
    const stream = watchRooms(hub, { ...limits, heartbeatMs: 20 }, { since: "", listRooms: new RoomTable().listRooms, signal: new AbortController().signal });
    await stream.next();
    expect((await stream.next()).value).toMatchObject({ kind: "heartbeat", atMs: expect.any(Number) });
    await stream.return(undefined);
  });
});
