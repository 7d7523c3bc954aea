/** Records as the domain sees them: plain data, ids as decimal strings, times in ms. */

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly createdAtMs: number;
}

/** A user together with what signing in checks. Never leaves the auth service. */
export interface UserCredentials extends UserRecord {
  readonly passwordHash: string;
}

export interface RoomRecord {
  readonly id: string;
  readonly name: string;
  readonly createdBy: string;
  readonly createdAtMs: number;
}

/** Where a message goes: a room, or one user's inbox. */
export type Channel = { readonly kind: "room"; readonly id: string } | { readonly kind: "user"; readonly id: string };

/** A stored message, room or direct. Immutable once stored. */
export interface ChatMessage {
  readonly id: string;
  readonly channel: Channel;
  readonly senderId: string;
  readonly senderName: string;
  readonly text: string;
  readonly createdAtMs: number;
  readonly clientMessageId: string;
}

/** A page request over messages: newest first, strictly between the cursors. */
export interface MessagePage {
  readonly before?: string;
  readonly after?: string;
  readonly limit: number;
}

/** The key that names a channel in maps and on the bus, e.g. "room:42". */
export function channelKey(channel: Channel): string {
  return `${channel.kind}:${channel.id}`;
}

/**
 * Someone typing in a channel (services/typing.ts): in a room (`channel` the room: its room
 * streams), or in a direct conversation (`channel` the peer's inbox: their direct-message
 * streams). Ephemeral: never stored, never replayed.
 */
export interface Typing {
  readonly channel: Channel;
  readonly typistId: string;
  readonly typistName: string;
  /** Show the indicator until then (ms since the epoch); with `stopped`, the time of the stop. */
  readonly untilMs: number;
  /** The typist stopped: hide it now. */
  readonly stopped: boolean;
}

/**
 * A channel as one reader sees it, for read markers: a room, or the reader's direct conversation
 * with one other user (both directions).
 */
export type ReadChannel = { readonly kind: "room"; readonly id: string } | { readonly kind: "direct"; readonly withUserId: string };

/** One reader's read state of one channel (services/read-markers.ts computes it). */
export interface ReadState {
  readonly channel: ReadChannel;
  /** The newest message id marked read, "0" when never marked. */
  readonly lastReadMessageId: string;
  /** Unread messages, at most services/read-markers.ts's UNREAD_COUNT_CAP. */
  readonly unreadCount: number;
  /** More than unreadCount messages are unread. */
  readonly moreUnread: boolean;
}

/** A user present in a room (realtime/presence.ts). */
export interface PresenceMember {
  readonly userId: string;
  readonly username: string;
}

/**
 * What one process reports on the bus about its room streams (realtime/presence.ts): the users
 * who became present or absent in each room since its last report, or — `reset` — everyone
 * present on it. Ephemeral: never stored, never part of the message log.
 */
export interface PresenceReport {
  /** The reporting process (random per process start). */
  readonly origin: string;
  /** 1, 2, 3… per origin: a receiver that sees a jump missed a report and asks for a reset. */
  readonly seq: number;
  /** `rooms` is everything present on the origin (its earlier reports are void). */
  readonly reset: boolean;
  /** More reports of this reset follow (a reset is sent in chunks); the state applies with the last. */
  readonly partial: boolean;
  /** The origin asks every process for a reset (it is new, or it missed a report). */
  readonly ask: boolean;
  /** The origin stopped: everyone it reported leaves now. */
  readonly gone: boolean;
  readonly rooms: readonly PresenceRoomReport[];
}

/** One room of a presence report: who joined (or, in a reset, is present) and who left. */
export interface PresenceRoomReport {
  readonly roomId: string;
  readonly joined: readonly PresenceMember[];
  /** User ids. */
  readonly left: readonly string[];
}

/** A message reduced to what counting unread messages needs: its id and its sender. */
export interface MessageStub {
  readonly id: string;
  readonly senderId: string;
}
