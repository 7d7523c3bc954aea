/**
 * The live room list (RoomService.WatchRooms): one stream of the rooms created, the same for every
 * edge, with the rules of a message subscription (subscription.ts) where they fit:
 *
 *   1. register with the hub's "all rooms" set first, so no room created from now on is missed;
 *   2. send Ready{position} — `since` when given, else the smallest id a room created now could
 *      have (minIdAt(now)): no store read is needed to start;
 *   3. with `since`: replay the stored rooms created after `since` − ROOM_RESUME_GRACE_MS, oldest
 *      first, page by page (`replayLimit` rooms a store read, so a stream never holds more than
 *      one page), however many there are — rooms are few, and a Gap would send the client to a
 *      List that pages by token, not by id;
 *   4. then the live rooms, dropping those the replay sent.
 *
 * Why the grace window: room ids are snowflakes made on each node (rooms.ts), so two nodes' ids
 * are in time order only up to their clock skew — a room created on a node whose clock is behind
 * gets a smaller id than one created just before it elsewhere. Replaying from exactly `since`
 * would miss it on resume; replaying from ROOM_RESUME_GRACE_MS of ids earlier misses nothing as
 * long as clocks agree within that. What it costs: rooms of the window arrive again after a
 * reconnect. Rooms never change, so a repeat is harmless and clients keep rooms by id (an upsert).
 * For the same reason live rooms are never filtered by the position (a message stream drops live
 * messages at or before it): a skewed node's new room may sort before it and must still arrive.
 *
 * Each room once per stream: live rooms that the replay already sent are dropped, by id. Only
 * replayed ids at or after startedAt − grace are remembered for that (an older room cannot also
 * be created live), and nothing is remembered per live room (the hub hands each room once).
 *
 * Cost per watcher: one entry in the hub's room-watcher set and in the heartbeat ticker, this
 * small object, an async generator (room watchers are few next to room subscribers, so this is
 * not the hand-written LiveStream of the fan-out hot path), and the rooms queued while its client
 * reads — at most `queueLimit`, past which the stream ends with ResourceExhaustedError.
 */
import { compareIds, idTimeMs, minIdAt } from "../domain/ids.js";
import { ResourceExhaustedError } from "../domain/errors.js";
import type { RoomRecord } from "../domain/model.js";
import type { Idler } from "./heartbeat-ticker.js";
import type { Hub, RoomWatcher } from "./hub.js";
import type { Frame, SubscriptionLimits } from "./stream-contract.js";

/** How far before `since` a resume replays, in time of ids: the clock skew between nodes it tolerates. */
export const ROOM_RESUME_GRACE_MS = 60_000;

export interface RoomWatchRequest {
  /** Resume after this room id; undefined or "" for "from now on". */
  readonly since: string | undefined;
  /** Stored rooms with an id greater than `afterId`, oldest first, at most `limit` (the store). */
  readonly listRooms: (afterId: string, limit: number) => Promise<RoomRecord[]>;
  /** Ends the stream; a DomainError as the reason is thrown to the client. */
  readonly signal: AbortSignal;
}

/** The id a resume from `since` replays after: ROOM_RESUME_GRACE_MS of ids earlier ("0" at the start). */
export function replayFloor(since: string): string {
  return minIdAt(idTimeMs(since) - ROOM_RESUME_GRACE_MS);
}

/** The frames of one room-list stream until the signal aborts or the client falls behind. */
export async function* watchRooms(hub: Hub, limits: SubscriptionLimits, request: RoomWatchRequest): AsyncGenerator<Frame> {
  const startedAtMs = Date.now();
  const watch = new Watch(limits.queueLimit);
  const ticker = hub.heartbeats.for(limits.heartbeatMs);
  const onAbort = (): void => watch.wake();
  hub.watchRooms(watch);
  ticker.add(watch);
  request.signal.addEventListener("abort", onAbort);
  try {
    const since = request.since || undefined;
    yield { kind: "ready", position: since ?? minIdAt(startedAtMs), heartbeatMs: limits.heartbeatMs };
    /** Replayed rooms that may also come live: those of the grace window before the start. */
    const replayed = new Set<string>();
    if (since !== undefined) {
      const recentFrom = minIdAt(startedAtMs - ROOM_RESUME_GRACE_MS);
      const pageSize = Math.max(1, limits.replayLimit);
      let after = replayFloor(since);
      for (;;) {
        const page = await request.listRooms(after, pageSize);
        for (const room of page) {
          if (watch.ended(request.signal)) return;
          if (compareIds(room.id, recentFrom) >= 0) replayed.add(room.id);
          yield { kind: "room", room };
        }
        if (page.length < pageSize) break;
        after = page[page.length - 1]!.id;
      }
    }
    for (;;) {
      const next = await watch.next(request.signal);
      if (next === "ended") return;
      if (next === "idle") yield { kind: "heartbeat", atMs: Date.now() };
      else if (!replayed.has(next.id)) yield { kind: "room", room: next };
    }
  } finally {
    request.signal.removeEventListener("abort", onAbort);
    ticker.remove(watch);
    hub.unwatchRooms(watch);
  }
}

/** One watcher's queue and wait: the hub's RoomWatcher and the heartbeat ticker's Idler. */
class Watch implements RoomWatcher, Idler {
  #queue: RoomRecord[] = [];
  #overflowed = false;
  #waiter: ((woken: boolean) => void) | undefined;
  idleSinceMs: number | undefined;

  constructor(private readonly queueLimit: number) {}

  roomCreated(room: RoomRecord): void {
    if (this.#overflowed) return;
    if (this.#queue.length >= this.queueLimit) this.#overflowed = true;
    else this.#queue.push(room);
    this.#settle(false);
  }

  /** The ticker's call (a whole period idle) or the signal's: ends the current wait. */
  wake(): void {
    this.#settle(true);
  }

  /**
   * True when the stream ends as a plain stop (the client left, the server stops); throws when
   * it ends with an error for the client (too slow; signed out, expired, draining: the reason).
   */
  ended(signal: AbortSignal): boolean {
    if (this.#overflowed) throw new ResourceExhaustedError("room-list stream fell too far behind; resume with `since` set to the last room id received");
    if (!signal.aborted) return false;
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name !== "AbortError") throw reason;
    return true;
  }

  /** The next live room; "idle" when a heartbeat is due; "ended" for a plain stop (throws as ended() does). */
  async next(signal: AbortSignal): Promise<RoomRecord | "idle" | "ended"> {
    for (;;) {
      if (this.ended(signal)) return "ended";
      const room = this.#queue.shift();
      if (room !== undefined) return room;
      const woken = await new Promise<boolean>((resolve) => {
        this.#waiter = resolve;
        this.idleSinceMs = Date.now();
      });
      if (woken && !signal.aborted && this.#queue.length === 0 && !this.#overflowed) return "idle";
    }
  }

  #settle(woken: boolean): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.idleSinceMs = undefined;
    waiter?.(woken);
  }
}
