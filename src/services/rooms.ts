/** Use cases of rooms: list, create (unique names, ignoring case), look up, who has one open. */
import { AlreadyExistsError, NotFoundError } from "../domain/errors.js";
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { PresenceMember, RoomRecord } from "../domain/model.js";
import type { Presence } from "../realtime/presence.js";
import { roomName } from "../domain/names.js";
import { type Store, UniqueViolation } from "../store/store.js";
import type { PageTokens } from "./page-tokens.js";

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
    return room;
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
