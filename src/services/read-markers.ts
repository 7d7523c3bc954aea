/**
 * Use cases of read markers: mark a channel read up to a message, and report the caller's read
 * state (marker, unread count) of rooms and direct conversations.
 *
 * The rules, decided once here (DESIGN.md, "Read markers and unread counts"):
 * - A marker is personal and monotonic: the store keeps the newest message id ever marked.
 * - Only a message of the channel can be marked: NotFoundError otherwise, the same answer whether
 *   the id names nothing or a message elsewhere (another room, other users' conversations).
 * - Unread = others' messages newer than the marker and than the caller's own newest message in
 *   the channel (sending reads the channel up to one's message), at most 14 days old, counted up
 *   to UNREAD_COUNT_CAP. Counting reads at most UNREAD_COUNT_CAP + 1 message stubs per channel.
 * - A mark that stores its message as the marker publishes the new state to the caller on the bus
 *   (one `read` event, addressed to the user): every open direct-message stream of theirs gets it
 *   as a `read` frame, so badges clear in their other sessions (a repeated mark of the same message
 *   sends the same state again, harmlessly). A mark of an older message changed nothing and
 *   publishes nothing. Published in the background once the marker is stored: a bus outage loses
 *   only the frame (sessions read states again from List), never the mark.
 */
import { NotFoundError } from "../domain/errors.js";
import { compareIds, minIdAt } from "../domain/ids.js";
import type { ChatMessage, ReadChannel, ReadState } from "../domain/model.js";
import type { Bus } from "../bus/bus.js";
import type { Store } from "../store/store.js";
import type { Rooms } from "./rooms.js";

export type { ReadState } from "../domain/model.js";

/** Unread counts stop here: a client shows `${UNREAD_COUNT_CAP}+` when `moreUnread`. */
export const UNREAD_COUNT_CAP = 100;
/** Messages older than this are never counted unread (a never-opened room shows its recent ones). */
export const UNREAD_HORIZON_MS = 14 * 24 * 3600 * 1000;

export interface ReadMarkersDeps {
  readonly store: Store;
  readonly rooms: Rooms;
  /** Where a mark's new state goes to the caller's other sessions (see the header). */
  readonly bus: Bus;
  /** Told when a mark's `read` event could not be published (the mark itself is stored). */
  readonly onReadUnpublished?: (error: unknown) => void;
  /** The clock of the unread horizon (tests move it). */
  readonly nowMs?: () => number;
}

export class ReadMarkers {
  constructor(private readonly deps: ReadMarkersDeps) {}

  /** Marks a room read up to `messageId` for the caller; NotFoundError when the room or the message (in it) is missing. */
  async markRoom(callerId: string, roomId: string, messageId: string): Promise<ReadState> {
    await this.deps.rooms.get(roomId);
    return this.#mark(callerId, { kind: "room", id: roomId }, messageId, `message ${messageId} is not in room ${roomId}`);
  }

  /** Marks the caller's conversation with one user read up to `messageId`; NotFoundError when the message is not in it. */
  markDirect(callerId: string, withUserId: string, messageId: string): Promise<ReadState> {
    const where = `message ${messageId} is not in your conversation with user ${withUserId}`;
    return this.#mark(callerId, { kind: "direct", withUserId }, messageId, where);
  }

  /** The caller's read state of each room, in the given order. */
  roomStates(callerId: string, roomIds: readonly string[]): Promise<ReadState[]> {
    return Promise.all(roomIds.map((id) => this.state(callerId, { kind: "room", id })));
  }

  /**
   * The caller's read state of the conversations a page of direct messages shows: with
   * `withUserId`, that one; otherwise one per other user on the page, in order of appearance.
   */
  directStates(callerId: string, page: readonly ChatMessage[], withUserId?: string): Promise<ReadState[]> {
    const others = withUserId ? [withUserId] : [...new Set(page.map((m) => (m.senderId === callerId ? m.channel.id : m.senderId)))];
    return Promise.all(others.map((other) => this.state(callerId, { kind: "direct", withUserId: other })));
  }

  /** The caller's read state of one channel (no existence check: an unknown channel has nothing unread). */
  async state(callerId: string, channel: ReadChannel): Promise<ReadState> {
    const marker = await this.deps.store.findReadMarker(callerId, channel);
    return this.#count(callerId, channel, marker ?? "0");
  }

  async #mark(callerId: string, channel: ReadChannel, messageId: string, notFound: string): Promise<ReadState> {
    const page = { after: (BigInt(messageId) - 1n).toString(), before: (BigInt(messageId) + 1n).toString(), limit: 1 };
    const [found] = await this.deps.store.listMessageStubs(callerId, channel, page);
    if (found?.id !== messageId) throw new NotFoundError(notFound);
    const marker = await this.deps.store.advanceReadMarker(callerId, channel, messageId);
    const state = await this.#count(callerId, channel, marker);
    if (marker === messageId) this.#publish(callerId, state);
    return state;
  }

  /** Sends the caller's new state to their streams, in the background (see the header). */
  #publish(callerId: string, state: ReadState): void {
    this.deps.bus.publish({ type: "read", userId: callerId, state }).catch((error: unknown) => this.deps.onReadUnpublished?.(error));
  }

  /** Counts from the newest message down to the marker, the horizon or the caller's own newest message. */
  async #count(callerId: string, channel: ReadChannel, marker: string): Promise<ReadState> {
    const horizon = minIdAt((this.deps.nowMs?.() ?? Date.now()) - UNREAD_HORIZON_MS);
    const after = compareIds(marker, horizon) >= 0 ? marker : horizon;
    const stubs = await this.deps.store.listMessageStubs(callerId, channel, { after, limit: UNREAD_COUNT_CAP + 1 });
    const own = stubs.findIndex((m) => m.senderId === callerId);
    const unread = own === -1 ? stubs.length : own;
    return { channel, lastReadMessageId: marker, unreadCount: Math.min(unread, UNREAD_COUNT_CAP), moreUnread: unread > UNREAD_COUNT_CAP };
  }
}
