/**
 * Use case of typing indicators (issue #16; DESIGN.md, "Typing indicators"): tell a room's
 * subscribers, or the other user of a direct conversation, that the caller is typing — or stopped.
 *
 * The rules, decided once here:
 * - Ephemeral: a call that goes through publishes one `typing` bus event; the hub hands it to the
 *   channel's open streams as a typing frame (rooms: the room's streams but the typist's own;
 *   direct: the peer's direct-message streams). Nothing is stored, nothing replayed on resume, no
 *   position moves; a stream opened later never sees it.
 * - A start is shown until `untilMs` = now + TYPING_TTL_MS unless renewed or stopped, so a typist
 *   that goes away disappears by itself; a stop (`stopped`) says "hide it now".
 * - Throttle: a start of the same user in the same channel within TYPING_THROTTLE_MS of the last
 *   one published is answered OK and publishes nothing (clients call at most that often; this
 *   bounds the ones that do not). A stop always publishes and ends the window. The window is kept
 *   per process, in a map of at most THROTTLE_ENTRIES entries: a user whose calls reach several
 *   workers or nodes gets one frame per process and window, and past the bound the oldest windows are forgotten early
 *   (one extra frame each). The admission pipeline's per-user rate limit covers the calls themselves.
 * - Posting a message does not stop typing: clients hide the indicator when that user's message
 *   arrives, or at `until`.
 * - Like posting, typing in a room needs no membership, only the room (NotFoundError otherwise);
 *   typing to a user needs the user to exist (NotFoundError).
 * - Published in the background once checked: a bus outage loses only the frame.
 */
import { NotFoundError } from "../domain/errors.js";
import { type Channel, channelKey, type Typing } from "../domain/model.js";
import type { Bus } from "../bus/bus.js";
import type { Store } from "../store/store.js";
import type { Rooms } from "./rooms.js";

/** How long a start is shown without a renewal (the frame's `until` is this far ahead). */
export const TYPING_TTL_MS = 6_000;
/** A start of the same user in the same channel within this window publishes nothing. */
export const TYPING_THROTTLE_MS = 2_000;
/** Most throttle windows a process remembers (one per typist and channel, ~100 bytes each). */
export const THROTTLE_ENTRIES = 10_000;

/** Who is typing: the caller's id and name (token claims carry both). */
export interface Typist {
  readonly userId: string;
  readonly username: string;
}

export interface TypingIndicatorsDeps {
  readonly store: Pick<Store, "findUserById">;
  readonly rooms: Pick<Rooms, "get">;
  /** Where a typing event goes to the channel's streams, on every node. */
  readonly bus: Bus;
  /** Told when a typing event could not be published (the frame is lost, nothing else). */
  readonly onUnpublished?: (error: unknown) => void;
  /** The clock of `until` and of the throttle (tests move it). */
  readonly nowMs?: () => number;
  /** THROTTLE_ENTRIES unless a test wants a smaller bound. */
  readonly throttleEntries?: number;
}

export class TypingIndicators {
  /**
   * When each typist last published a start in each channel, oldest first: a Map iterates in
   * insertion order and a publish re-inserts its key, so expired windows sit at the front.
   */
  readonly #lastStart = new Map<string, number>();

  constructor(private readonly deps: TypingIndicatorsDeps) {}

  /** The caller is typing in a room (or stopped); NotFoundError when the room does not exist. */
  async inRoom(caller: Typist, roomId: string, stopped: boolean): Promise<void> {
    await this.deps.rooms.get(roomId);
    this.#announce(caller, { kind: "room", id: roomId }, stopped);
  }

  /** The caller is typing to `withUserId` (or stopped); NotFoundError when there is no such user. */
  async inConversation(caller: Typist, withUserId: string, stopped: boolean): Promise<void> {
    if (!(await this.deps.store.findUserById(withUserId))) throw new NotFoundError(`user ${withUserId} does not exist`);
    this.#announce(caller, { kind: "user", id: withUserId }, stopped);
  }

  /** How many throttle windows this process remembers (tests). */
  get remembered(): number {
    return this.#lastStart.size;
  }

  #announce(caller: Typist, channel: Channel, stopped: boolean): void {
    const now = this.deps.nowMs?.() ?? Date.now();
    const key = `${caller.userId}>${channelKey(channel)}`;
    if (stopped) {
      this.#lastStart.delete(key);
    } else {
      const last = this.#lastStart.get(key);
      // A clock that went back (last > now) does not hold the window open.
      if (last !== undefined && last <= now && now - last < TYPING_THROTTLE_MS) return;
      this.#remember(key, now);
    }
    const typing: Typing = { channel, typistId: caller.userId, typistName: caller.username, untilMs: stopped ? now : now + TYPING_TTL_MS, stopped };
    this.deps.bus.publish({ type: "typing", typing }).catch((error: unknown) => this.deps.onUnpublished?.(error));
  }

  /** Records a published start, first forgetting the expired windows at the front and any past the bound. */
  #remember(key: string, now: number): void {
    const bound = this.deps.throttleEntries ?? THROTTLE_ENTRIES;
    this.#lastStart.delete(key);
    for (const [oldest, at] of this.#lastStart) {
      if (this.#lastStart.size < bound && at <= now && now - at < TYPING_THROTTLE_MS) break;
      this.#lastStart.delete(oldest);
    }
    this.#lastStart.set(key, now);
  }
}
