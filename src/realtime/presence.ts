/**
 * Presence (issue #16; DESIGN.md, "Presence"): who has each room open, on every node, without
 * storing anything and without a frame per join.
 *
 * - A user is present in a room while at least one of their SubscribeRoom streams to it is open
 *   on some process. Each process counts its own streams (`enter` / `leave`).
 * - Every BATCH_MS a process that saw a change publishes one `presence` bus event (a report) with
 *   the users who became present or absent in each room since its last report — not one event per
 *   stream. Every BEAT_MS it publishes a report anyway (a heartbeat, usually empty).
 * - Every process applies every report (its own too, as the bus hands them back) to its view of
 *   each origin's rooms, and merges the origins: a user is present while any origin reports them.
 *   Each report that changes who is present in a room yields one PresenceFrame for that room's
 *   watchers (hub.ts): so 10,000 joins on one process in a minute cost at most one frame per
 *   watcher and batch window (60), not 10,000.
 * - An origin unheard of for TTL_MS (three beats) is taken for dead: its users leave — unless this
 *   process has not heard its own reports back for two beats (the bus is down, not everyone else);
 *   after such an outage, silence counts from the bus's return.
 *   A process that stops says so (`gone`), so its users leave at once.
 * - Reports of one origin are applied in order (the bus keeps one publisher's order: Kafka by the
 *   origin key, the cluster bus by the primary's arrival order). A receiver that sees a report
 *   number jump, or hears of an origin it has no state for, asks (`ask`) — at most once a beat —
 *   and every process answers with a `reset`: everything present on it, in chunks, which replaces
 *   what the receiver held for it. A new process asks at once.
 *
 * Own clock only: ages are measured on the receiver's clock from when a report arrived, so a node
 * with a skewed clock neither expires early nor lives forever.
 */
import { randomUUID } from "node:crypto";
import type { PresenceMember, PresenceReport, PresenceRoomReport } from "../domain/model.js";
import type { PresenceFrame } from "./stream-contract.js";

/** How long a process gathers joins and leaves into one report. */
export const PRESENCE_BATCH_MS = 1_000;
/** A process reports at least this often (an empty report is its heartbeat). */
export const PRESENCE_BEAT_MS = 5_000;
/** An origin unheard of for this long is taken for dead and its users leave. */
export const PRESENCE_TTL_MS = 15_000;
/** Most users a presence frame lists as joined (and as left); past it the frame says `truncated`. */
export const FRAME_LIST_LIMIT = 100;
/** Most joins (and, apart, most leaves) one room of a bus report carries, and the size a report is filled to: a report holds at most twice this many users (a Kafka record stays far below its size limit). */
export const REPORT_MEMBER_LIMIT = 1_000;

export interface PresenceTimings {
  readonly batchMs: number;
  readonly beatMs: number;
  readonly ttlMs: number;
}

export interface PresenceDeps {
  /** Sends a report to every process, this one included (the bus). */
  readonly publish: (report: PresenceReport) => Promise<void>;
  /** Told when a report could not be published (a receiver that misses one asks for a reset). */
  readonly onUnpublished?: (error: unknown) => void;
  /** The clock of ages (tests move it). */
  readonly nowMs?: () => number;
  readonly timings?: Partial<PresenceTimings>;
  /** This process's name in reports; random unless a test names it. */
  readonly origin?: string;
}

/** What one origin reported, as applied here. */
interface OriginState {
  heardAtMs: number;
  seq: number;
  /** room → user → username. */
  rooms: Map<string, Map<string, string>>;
  /** The reset being received in chunks, applied with its last chunk. */
  incoming: Map<string, Map<string, string>> | undefined;
}

/** One user in the merged view: their name and how many origins report them. */
interface MergedMember {
  username: string;
  origins: number;
}

/** Changes of one room while one report (or expiry) is applied. */
interface RoomChange {
  joined: PresenceMember[];
  left: PresenceMember[];
}

export class Presence {
  readonly origin: string;
  readonly #deps: PresenceDeps;
  readonly #timings: PresenceTimings;
  /** This process's open room streams: room → user → [username, streams]. */
  readonly #local = new Map<string, Map<string, { username: string; streams: number }>>();
  /** Changes since the last report: room → user → username (joined) or null (left). */
  #pending = new Map<string, Map<string, string | null>>();
  readonly #origins = new Map<string, OriginState>();
  /** room → user → who they are and how many origins report them. */
  readonly #merged = new Map<string, Map<string, MergedMember>>();
  #seq = 0;
  /** Send everything at the next batch (someone asked, or this process is new). */
  #resetWanted = true;
  /** Ask everyone for a reset at the next batch (a jump, an unknown origin, or this process is new). */
  #askWanted = true;
  #lastAskMs = -Infinity;
  #lastReportMs = -Infinity;
  /** When this process last heard its own reports again after the bus had been silent (or first heard them). */
  #busBackAtMs = 0;
  #batchTimer: NodeJS.Timeout | undefined;
  #listener: ((frame: PresenceFrame) => void) | undefined;

  constructor(deps: PresenceDeps) {
    this.#deps = deps;
    this.origin = deps.origin ?? randomUUID();
    this.#timings = { batchMs: PRESENCE_BATCH_MS, beatMs: PRESENCE_BEAT_MS, ttlMs: PRESENCE_TTL_MS, ...deps.timings };
  }

  /** Where the frames of changes go (the hub); set once. */
  listen(listener: (frame: PresenceFrame) => void): void {
    this.#listener = listener;
  }

  /** Starts the batch timer: reports, heartbeats and expiry run on it. */
  start(): void {
    this.#batchTimer ??= setInterval(() => this.tick(), this.#timings.batchMs).unref();
  }

  /** Stops the timer and tells everyone this process's users left (best effort). */
  async stop(): Promise<void> {
    if (this.#batchTimer) clearInterval(this.#batchTimer);
    this.#batchTimer = undefined;
    await this.#publish({ reset: false, partial: false, ask: false, gone: true, rooms: [] });
  }

  /** A stream of `member` opened on `roomId` on this process. */
  enter(roomId: string, member: PresenceMember): void {
    let users = this.#local.get(roomId);
    if (!users) this.#local.set(roomId, (users = new Map()));
    const held = users.get(member.userId);
    if (held) {
      held.streams++;
      return;
    }
    users.set(member.userId, { username: member.username, streams: 1 });
    this.#note(roomId, member.userId, member.username);
  }

  /** A stream of `userId` on `roomId` closed; a no-op for one that was not entered. */
  leave(roomId: string, userId: string): void {
    const users = this.#local.get(roomId);
    const held = users?.get(userId);
    if (!users || !held) return;
    if (--held.streams > 0) return;
    users.delete(userId);
    if (users.size === 0) this.#local.delete(roomId);
    this.#note(roomId, userId, null);
  }

  /** How many distinct users are present in the room, on all nodes. */
  count(roomId: string): number {
    return this.#merged.get(roomId)?.size ?? 0;
  }

  /** The first `limit` users present in the room, by username (then id). */
  members(roomId: string, limit: number): PresenceMember[] {
    const users = this.#merged.get(roomId);
    if (!users) return [];
    const all = [...users].map(([userId, m]) => ({ userId, username: m.username }));
    all.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : a.userId < b.userId ? -1 : 1));
    return all.slice(0, limit);
  }

  /** The first frame of a stream that watches the room: who is there now. */
  snapshot(roomId: string): PresenceFrame {
    const count = this.count(roomId);
    const listed = count <= FRAME_LIST_LIMIT;
    return { kind: "presence", roomId, count, joined: listed ? this.members(roomId, FRAME_LIST_LIMIT) : [], left: [], snapshot: true, truncated: !listed };
  }

  /** One batch window passed: expire silent origins, then report (a change, a reset, an ask, or a heartbeat). */
  tick(): void {
    const now = this.#now();
    this.#expire(now);
    const ask = this.#askWanted && now - this.#lastAskMs >= this.#timings.beatMs;
    if (ask) {
      this.#askWanted = false;
      this.#lastAskMs = now;
    }
    if (this.#resetWanted) {
      this.#resetWanted = false;
      this.#pending = new Map();
      this.#sendReset(ask);
      return;
    }
    if (this.#pending.size > 0) {
      const pending = this.#pending;
      this.#pending = new Map();
      this.#sendChanges(pending, ask);
      return;
    }
    if (ask || now - this.#lastReportMs >= this.#timings.beatMs) void this.#publish({ reset: false, partial: false, ask, gone: false, rooms: [] });
  }

  /** Applies a report from the bus (any origin, this one too); frames of the changes go to the listener. */
  apply(report: PresenceReport): void {
    if (report.ask) this.#resetWanted = true;
    const changes = new Map<string, RoomChange>();
    if (report.gone) {
      this.#dropOrigin(report.origin, changes);
      return this.#emit(changes);
    }
    let state = this.#origins.get(report.origin);
    if (!state) {
      state = { heardAtMs: 0, seq: 0, rooms: new Map(), incoming: undefined };
      this.#origins.set(report.origin, state);
    }
    const inOrder = report.seq === state.seq + 1;
    // A jump, or an origin first heard of mid-way (a process's first report is number 1): what it
    // said before never reached us. Even a reset may be the last chunk of one: ask again.
    if (!inOrder) this.#askWanted = true;
    const now = this.#now();
    if (report.origin === this.origin && this.#busSilent(state, now)) this.#busBackAtMs = now;
    state.heardAtMs = now;
    state.seq = report.seq;
    if (report.reset) {
      // A reset's chunks gather apart and replace the state with the last one, so whoever is in
      // both does not flicker out and back. A first chunk (or one after a jump) starts afresh.
      const gathering = state.incoming !== undefined && inOrder ? state.incoming : new Map<string, Map<string, string>>();
      for (const room of report.rooms) addMembers(gathering, room);
      state.incoming = report.partial ? gathering : undefined;
      if (!report.partial) this.#replaceOrigin(state, gathering, changes);
    } else {
      state.incoming = undefined;
      for (const room of report.rooms) this.#applyRoom(state, room, changes);
    }
    this.#emit(changes);
  }

  #now(): number {
    return this.#deps.nowMs?.() ?? Date.now();
  }

  /** Records a join (username) or a leave (null) for the next report; the two cancel out within one window. */
  #note(roomId: string, userId: string, username: string | null): void {
    let room = this.#pending.get(roomId);
    if (!room) this.#pending.set(roomId, (room = new Map()));
    const earlier = room.get(userId);
    if (earlier !== undefined && (earlier === null) !== (username === null)) {
      room.delete(userId);
      if (room.size === 0) this.#pending.delete(roomId);
      return;
    }
    room.set(userId, username);
  }

  #sendChanges(pending: Map<string, Map<string, string | null>>, ask: boolean): void {
    const rooms: PresenceRoomReport[] = [];
    for (const [roomId, users] of pending) {
      const joined: PresenceMember[] = [];
      const left: string[] = [];
      for (const [userId, username] of users) {
        if (username === null) left.push(userId);
        else joined.push({ userId, username });
      }
      rooms.push({ roomId, joined, left });
    }
    for (const [chunk, last] of chunks(rooms)) void this.#publish({ reset: false, partial: false, ask: ask && last, gone: false, rooms: chunk });
  }

  #sendReset(ask: boolean): void {
    const rooms: PresenceRoomReport[] = [];
    for (const [roomId, users] of this.#local) {
      rooms.push({ roomId, joined: [...users].map(([userId, held]) => ({ userId, username: held.username })), left: [] });
    }
    for (const [chunk, last] of chunks(rooms)) void this.#publish({ reset: true, partial: !last, ask: ask && last, gone: false, rooms: chunk });
  }

  #publish(report: Omit<PresenceReport, "origin" | "seq">): Promise<void> {
    this.#lastReportMs = this.#now();
    return this.#deps.publish({ origin: this.origin, seq: ++this.#seq, ...report }).catch((error: unknown) => this.#deps.onUnpublished?.(error));
  }

  #expire(now: number): void {
    // This process's own reports not coming back (it reports at least once a beat) means the bus
    // is down, not that everyone else died: expire nobody until it answers again. Two beats, so
    // that an outage stops expiry (≤ 2 beats after the last report heard) before any origin's
    // silence can reach TTL (≥ TTL − 1 beat after it).
    const own = this.#origins.get(this.origin);
    if (!own || this.#busSilent(own, now)) return;
    const changes = new Map<string, RoomChange>();
    for (const [origin, state] of this.#origins) {
      // Silence counts from the bus's return at the earliest: the others' reports may come back a
      // little after this process's own.
      if (origin !== this.origin && now - Math.max(state.heardAtMs, this.#busBackAtMs) > this.#timings.ttlMs) this.#dropOrigin(origin, changes);
    }
    this.#emit(changes);
  }

  /** Whether this process's own reports have not come back for two beats (it reports at least once a beat): the bus is down. */
  #busSilent(own: OriginState, now: number): boolean {
    return now - own.heardAtMs >= 2 * this.#timings.beatMs;
  }

  #dropOrigin(origin: string, changes: Map<string, RoomChange>): void {
    const state = this.#origins.get(origin);
    if (!state) return;
    this.#origins.delete(origin);
    this.#replaceOrigin(state, new Map(), changes);
  }

  /** Makes `next` the origin's rooms, merging the difference. */
  #replaceOrigin(state: OriginState, next: Map<string, Map<string, string>>, changes: Map<string, RoomChange>): void {
    for (const [roomId, users] of state.rooms) {
      const kept = next.get(roomId);
      const left = [...users.keys()].filter((userId) => !kept?.has(userId));
      if (left.length > 0) this.#applyRoom(state, { roomId, joined: [], left }, changes);
    }
    for (const [roomId, users] of next) {
      const joined = [...users].map(([userId, username]) => ({ userId, username }));
      this.#applyRoom(state, { roomId, joined, left: [] }, changes);
    }
  }

  /** Applies one room's joins and leaves of one origin to its state and to the merged view. */
  #applyRoom(state: OriginState, room: PresenceRoomReport, changes: Map<string, RoomChange>): void {
    let users = state.rooms.get(room.roomId);
    let merged = this.#merged.get(room.roomId);
    const change = (): RoomChange => {
      let c = changes.get(room.roomId);
      if (!c) changes.set(room.roomId, (c = { joined: [], left: [] }));
      return c;
    };
    for (const member of room.joined) {
      if (users?.has(member.userId)) continue;
      if (!users) state.rooms.set(room.roomId, (users = new Map()));
      users.set(member.userId, member.username);
      if (!merged) this.#merged.set(room.roomId, (merged = new Map()));
      const held = merged.get(member.userId);
      if (held) held.origins++;
      else {
        merged.set(member.userId, { username: member.username, origins: 1 });
        change().joined.push({ userId: member.userId, username: member.username });
      }
    }
    for (const userId of room.left) {
      if (!users?.delete(userId)) continue;
      const held = merged?.get(userId);
      if (!merged || !held || --held.origins > 0) continue;
      merged.delete(userId);
      change().left.push({ userId, username: held.username });
    }
    if (users?.size === 0) state.rooms.delete(room.roomId);
    if (merged?.size === 0) this.#merged.delete(room.roomId);
  }

  #emit(changes: Map<string, RoomChange>): void {
    const listener = this.#listener;
    if (!listener) return;
    for (const [roomId, { joined, left }] of changes) {
      // A user who left and came back within one report shows as neither.
      const leftIds = new Set(left.map((m) => m.userId));
      const back = new Set(joined.map((m) => m.userId).filter((id) => leftIds.has(id)));
      const j = back.size > 0 ? joined.filter((m) => !back.has(m.userId)) : joined;
      const l = back.size > 0 ? left.filter((m) => !back.has(m.userId)) : left;
      if (j.length === 0 && l.length === 0) continue;
      listener({
        kind: "presence",
        roomId,
        count: this.count(roomId),
        joined: j.slice(0, FRAME_LIST_LIMIT),
        left: l.slice(0, FRAME_LIST_LIMIT),
        snapshot: false,
        truncated: j.length > FRAME_LIST_LIMIT || l.length > FRAME_LIST_LIMIT,
      });
    }
  }
}

/** Adds a report room's members to a gathering state. */
function addMembers(rooms: Map<string, Map<string, string>>, room: PresenceRoomReport): void {
  let users = rooms.get(room.roomId);
  if (!users) rooms.set(room.roomId, (users = new Map()));
  for (const member of room.joined) users.set(member.userId, member.username);
}

/** Splits rooms into reports of at most REPORT_MEMBER_LIMIT joins and as many leaves per room piece, filled up to REPORT_MEMBER_LIMIT users where pieces allow (a big room over several); each with whether it is the last. Always at least one. */
function* chunks(rooms: readonly PresenceRoomReport[]): Generator<[PresenceRoomReport[], boolean]> {
  let chunk: PresenceRoomReport[] = [];
  let size = 0;
  const pieces: PresenceRoomReport[] = [];
  for (const room of rooms) {
    for (let i = 0; i < Math.max(room.joined.length, room.left.length, 1); i += REPORT_MEMBER_LIMIT) {
      pieces.push({ roomId: room.roomId, joined: room.joined.slice(i, i + REPORT_MEMBER_LIMIT), left: room.left.slice(i, i + REPORT_MEMBER_LIMIT) });
    }
  }
  const out: PresenceRoomReport[][] = [];
  for (const piece of pieces) {
    const n = piece.joined.length + piece.left.length;
    if (size + n > REPORT_MEMBER_LIMIT && chunk.length > 0) {
      out.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(piece);
    size += n;
  }
  out.push(chunk);
  for (let i = 0; i < out.length; i++) yield [out[i]!, i === out.length - 1];
}
