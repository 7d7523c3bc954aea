/**
 * The store port: everything Parley keeps on disk. Adapters (store/sqlite, store/cassandra)
 * implement it and nothing else; services never see SQL or CQL. Every adapter passes the
 * contract suite in test/contract/store-contract.ts.
 */
import type { ChatMessage, MessagePage, MessageStub, ReadChannel, RoomRecord, UserCredentials, UserRecord } from "../domain/model.js";

/** Thrown by create* when a unique key (username, room name) is taken. */
export class UniqueViolation extends Error {
  constructor(readonly what: "username" | "room_name") {
    super(`${what} already taken`);
    this.name = "UniqueViolation";
  }
}

/** An idempotency key of a sender: the same key within its lifetime names one message. */
export interface IdempotencyKey {
  readonly senderId: string;
  readonly key: string;
  readonly expiresAtMs: number;
}

/** The outcome of appending a message: the stored message, and whether this call stored it. */
export interface AppendResult {
  readonly message: ChatMessage;
  readonly created: boolean;
}

/** A token revocation as the store recorded it. */
export interface Revocation {
  readonly tokenId: string;
  /** When the token would have expired anyway; the revocation is kept until then. */
  readonly expiresAtMs: number;
  /** When it was stored, by the clock of the process that stored it. */
  readonly revokedAtMs: number;
}

export interface Store {
  /** Stores a user; throws UniqueViolation("username") when the key is taken. */
  createUser(user: UserCredentials & { readonly usernameKey: string }): Promise<void>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** Looks a user up by uniqueness key (see domain/names.ts). */
  findUserByNameKey(usernameKey: string): Promise<UserCredentials | undefined>;

  /** Stores a room; throws UniqueViolation("room_name") when the key is taken. */
  createRoom(room: RoomRecord & { readonly nameKey: string }): Promise<void>;
  findRoom(id: string): Promise<RoomRecord | undefined>;
  /** Rooms with id > afterId, oldest first, at most `limit`. */
  listRooms(afterId: string | undefined, limit: number): Promise<RoomRecord[]>;

  /**
   * Stores a message (room or direct, by its channel). With an idempotency key already used by
   * the same sender and not expired, stores nothing and returns the first message instead —
   * whatever its channel and text: whether the two are the same request is the caller's call
   * (services/messages.ts refuses a key reused for another one). One key spans every channel
   * of its sender. Appends of one key racing each other: every answer is either its own
   * message, stored (`created`), or a message stored under the key; SQLite stores exactly one,
   * Cassandra (no lightweight transaction on the message path) may store each racer.
   * The returned message is the stored one: a store that orders appends itself may give it a
   * later id than proposed (cluster/sequenced-appends.ts does); callers use the result.
   */
  appendMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<AppendResult>;
  /**
   * Stores a message the log has already named (a log-first bus: bus/kafka): idempotent by id —
   * writing the same message again changes nothing — and records its idempotency key unless the
   * key already names a message (the message is stored either way: the log delivered it).
   */
  recordMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<void>;
  /** The message a sender's unexpired idempotency key names, if any. */
  findMessageByKey(senderId: string, key: string): Promise<ChatMessage | undefined>;
  /** A room's messages, newest first, strictly between the page's cursors. */
  listRoomMessages(roomId: string, page: MessagePage): Promise<ChatMessage[]>;
  /** Direct messages sent to the user, newest first. */
  listInbox(userId: string, page: MessagePage): Promise<ChatMessage[]>;
  /** Direct messages between two users in both directions, newest first. */
  listConversation(userId: string, otherUserId: string, page: MessagePage): Promise<ChatMessage[]>;

  /**
   * Id and sender of the messages `readerId` sees in a channel — a room's messages, or the
   * reader's conversation with the other user in both directions (what listRoomMessages and
   * listConversation return, without the rest) — newest first, strictly between the page's
   * cursors, at most `page.limit`. Counting unread messages reads this, so it must stay cheap.
   */
  listMessageStubs(readerId: string, channel: ReadChannel, page: MessagePage): Promise<MessageStub[]>;
  /**
   * Raises the reader's read marker in the channel to `messageId`; never lowers it. Resolves with
   * the marker as stored afterwards: the newest id ever passed for this reader and channel, so
   * never older than `messageId` nor than before. Monotonic under concurrent calls from any
   * process or node: the marker ends at the newest of them, whatever order they land in.
   */
  advanceReadMarker(readerId: string, channel: ReadChannel, messageId: string): Promise<string>;
  /** The reader's read marker in the channel, or undefined when it was never marked. */
  findReadMarker(readerId: string, channel: ReadChannel): Promise<string | undefined>;

  /**
   * Marks a token id revoked until it would have expired anyway, stamped with this process's
   * clock; once it resolves, isTokenRevoked and listRevocationsSince see it on every node.
   */
  revokeToken(tokenId: string, expiresAtMs: number): Promise<void>;
  isTokenRevoked(tokenId: string): Promise<boolean>;
  /**
   * Every revocation stored at or after `sinceMs` (by the storing process's clock), whichever
   * process or node stored it, except those whose token has expired; oldest first. A token
   * revoked twice may appear twice. Each node polls it to end revoked tokens' streams without
   * the bus (auth/revocation-sweep.ts).
   */
  listRevocationsSince(sinceMs: number): Promise<Revocation[]>;

  /**
   * Uses up a single-use value (a stream ticket's nonce) until `expiresAtMs`: true for the one
   * call that redeems it first — across every process and node sharing this store — false for
   * every other call, concurrent or later, until it expires.
   */
  redeemOnce(nonce: string, expiresAtMs: number): Promise<boolean>;

  /** Flushes and releases everything; the store is unusable afterwards. */
  close(): Promise<void>;
}
