/**
 * Use cases of rooms: list, create (unique names, ignoring case), look up, who has one open, watch the list live.
 *
 * A room created is stored first, then published on the bus as `room_created` in the background
 * (like typing): a bus outage costs only the live frame — watchers that missed it get it when
 * they resume from the store with `since` (realtime/room-watch.ts, DESIGN.md "Live room list").
 */
import type { Bus } from "../bus/bus.js";
import { AlreadyExistsError, NotFoundError } from "../domain/errors.js";
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { PresenceMember, RoomRecord } from "../domain/model.js";
import type { Presence } from "../realtime/presence.js";
import { roomName } from "../domain/names.js";
import { type Store, UniqueViolation } from "../store/store.js";
import type { PageTokens } from "./page-tokens.js";
import type { Hub } from "../realtime/hub.js";
import { watchRooms } from "../realtime/room-watch.js";
import type { Frame, SubscriptionLimits } from "../realtime/stream-contract.js";

/** What the live room list needs: the bus rooms are announced on, the node's hub, the stream limits. */
export interface LiveRooms {
  readonly bus: Bus;
  readonly hub: Hub;
  readonly limits: SubscriptionLimits;
  /** Called when a `room_created` event could not be published (the room is stored all the same). */
  readonly onUnpublished?: (error: unknown) => void;
}

const DEFAULT_PAGE = 100;
/** Most users GetRoomPresence lists (the count is exact). */
export const PRESENCE_LIST_LIMIT = 1_000;
/** Rooms remembered by id (rooms are never deleted or changed, so a found room stays valid). */
const KNOWN_ROOMS = 10_000;

export class Rooms {
  /** Rooms found before, oldest first: posting checks the room on every message. */
  readonly #known = new Map<string, RoomRecord>();

  constructor(
    private readonly store: Store,
    private readonly ids: SnowflakeGenerator,
    private readonly pageTokens: PageTokens,
    private readonly presence?: Pick<Presence, "count" | "members">,
    /** Without it (unit tests of the other use cases) nothing is published and watch() cannot be used. */
    private readonly live?: LiveRooms,
  ) {}

  /** Rooms oldest first, one page at a time; nextPageToken is "" on the last page. */
  async list(pageSize: number, pageToken: string): Promise<{ rooms: RoomRecord[]; nextPageToken: string }> {
    const limit = pageSize > 0 ? pageSize : DEFAULT_PAGE;
    const rooms = await this.store.listRooms(this.pageTokens.decode(pageToken), limit + 1);
    const more = rooms.length > limit;
    if (more) rooms.length = limit;
    return { rooms, nextPageToken: more ? this.pageTokens.encode(rooms[rooms.length - 1]!.id) : "" };
  }

  /** Creates a room; AlreadyExistsError when a room of that name exists in any letter case. */
  async create(rawName: string, createdBy: string): Promise<RoomRecord> {
    const { name, key } = roomName(rawName);
    const room = { id: this.ids.next(), name, createdBy, createdAtMs: Date.now() };
    try {
      await this.store.createRoom({ ...room, nameKey: key });
    } catch (error) {
      if (error instanceof UniqueViolation) throw new AlreadyExistsError(`a room named "${name}" already exists`);
      throw error;
    }
    this.live?.bus.publish({ type: "room_created", room }).catch((error: unknown) => this.live?.onUnpublished?.(error));
    return room;
  }

  /**
   * The room list live: Ready, then (with `since`) the stored rooms created after it — from a
   * grace window before it, for clock skew between nodes — then rooms as they are created, each
   * once, until the signal aborts (realtime/room-watch.ts has the rules).
   */
  watch(since: string, signal: AbortSignal): AsyncGenerator<Frame> {
    if (!this.live) throw new Error("Rooms was built without its live dependencies (bus, hub)");
    return watchRooms(this.live.hub, this.live.limits, { since, signal, listRooms: (afterId, limit) => this.store.listRooms(afterId, limit) });
  }

  /** The room, or NotFoundError. */
  async get(roomId: string): Promise<RoomRecord> {
    const known = this.#known.get(roomId);
    if (known) return known;
    const room = await this.store.findRoom(roomId);
    if (!room) throw new NotFoundError(`room ${roomId} does not exist`);
    if (this.#known.size >= KNOWN_ROOMS) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(roomId, room);
    return room;
  }

  /** Who has the room open now, on every node (the first PRESENCE_LIST_LIMIT by username) and how many; NotFoundError when there is no such room. */
  async presenceOf(roomId: string): Promise<{ count: number; users: PresenceMember[] }> {
    await this.get(roomId);
    return { count: this.presence?.count(roomId) ?? 0, users: this.presence?.members(roomId, PRESENCE_LIST_LIMIT) ?? [] };
  }
}
