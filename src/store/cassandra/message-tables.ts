/**
 * The three message tables: room_messages, inbox_messages and conversation_messages. A room
 * message is one row; a direct message is two (the recipient's inbox, the pair's conversation).
 */
import type cassandra from "cassandra-driver";
import type { ChatMessage, MessagePage, MessageStub } from "../../domain/model.js";
import { bucketOf, compareIds } from "../../domain/ids.js";
import { firstBucketOf, readPage } from "./message-pager.js";
import { big, idOf, MESSAGE_COLUMNS, messageValues, toMessage } from "./rows.js";

/** Runs one prepared statement; failures come back as store errors (see cassandra-errors.ts). */
export type Execute = (
  operation: string,
  cql: string,
  params: readonly unknown[],
  options?: cassandra.QueryOptions,
) => Promise<cassandra.types.ResultSet>;

/** Message inserts are upserts of immutable rows: safe for the driver to retry or speculate. */
const IDEMPOTENT: cassandra.QueryOptions = { isIdempotent: true };
const RANGE = "message_id < ? AND message_id > ? ORDER BY message_id DESC LIMIT ?";

/** Writes a message to every table that lists it, and pages each listing newest first. */
export class MessageTables {
  readonly #cql;

  constructor(private readonly execute: Execute, ks: string) {
    this.#cql = {
      insertRoom: `INSERT INTO ${ks}.room_messages (room_id, bucket, ${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      insertInbox: `INSERT INTO ${ks}.inbox_messages (recipient_id, bucket, ${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      insertConversation: `INSERT INTO ${ks}.conversation_messages (user_lo, user_hi, bucket, recipient_id, ${MESSAGE_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      room: `SELECT ${MESSAGE_COLUMNS} FROM ${ks}.room_messages WHERE room_id = ? AND bucket = ? AND ${RANGE}`,
      inbox: `SELECT ${MESSAGE_COLUMNS} FROM ${ks}.inbox_messages WHERE recipient_id = ? AND bucket = ? AND ${RANGE}`,
      conversation: `SELECT recipient_id, ${MESSAGE_COLUMNS} FROM ${ks}.conversation_messages
        WHERE user_lo = ? AND user_hi = ? AND bucket = ? AND ${RANGE}`,
      roomStubs: `SELECT message_id, sender_id FROM ${ks}.room_messages WHERE room_id = ? AND bucket = ? AND ${RANGE}`,
      conversationStubs: `SELECT message_id, sender_id FROM ${ks}.conversation_messages
        WHERE user_lo = ? AND user_hi = ? AND bucket = ? AND ${RANGE}`,
    } as const;
  }

  /**
   * Stores a message in every table that lists it. A direct message is two concurrent writes,
   * not a batch: an unlogged batch over two partitions is no more atomic and funnels both through
   * one coordinator, and a logged batch adds a batchlog round trip to the hottest path. The driver
   * retries each (idempotent) write; should one still fail the append fails, and the client's
   * retry is the same kind of duplicate the idempotency race (cassandra-store.ts) already allows.
   */
  async write(m: ChatMessage): Promise<void> {
    const operation = m.channel.kind === "room" ? "append room message" : "append direct message";
    await Promise.all(this.inserts(m).map(({ query, params }) => this.execute(operation, query, params, IDEMPOTENT)));
  }

  /** The inserts that store a message: one row for a room message, two for a direct one. */
  inserts(m: ChatMessage): Array<{ query: string; params: unknown[] }> {
    const bucket = bucketOf(m.id);
    const values = messageValues(m);
    if (m.channel.kind === "room") return [{ query: this.#cql.insertRoom, params: [big(m.channel.id), bucket, ...values] }];
    const [lo, hi] = pair(m.senderId, m.channel.id);
    return [
      { query: this.#cql.insertInbox, params: [big(m.channel.id), bucket, ...values] },
      { query: this.#cql.insertConversation, params: [big(lo), big(hi), bucket, big(m.channel.id), ...values] },
    ];
  }

  /** A room's messages, newest first; the room id bounds the walk (no message predates its room). */
  roomPage(roomId: string, page: MessagePage): Promise<ChatMessage[]> {
    const channel = { kind: "room", id: roomId } as const;
    return readPage(async (bucket, before, after, limit) => {
      const rs = await this.execute("list room messages", this.#cql.room, [big(roomId), bucket, before, after, limit]);
      return rs.rows.map((row) => toMessage(row, channel));
    }, page, firstBucketOf(roomId));
  }

  /** Direct messages to the user, newest first; no message predates its recipient. */
  inboxPage(userId: string, page: MessagePage): Promise<ChatMessage[]> {
    const channel = { kind: "user", id: userId } as const;
    return readPage(async (bucket, before, after, limit) => {
      const rs = await this.execute("list inbox", this.#cql.inbox, [big(userId), bucket, before, after, limit]);
      return rs.rows.map((row) => toMessage(row, channel));
    }, page, firstBucketOf(userId));
  }

  /** Direct messages between two users, both ways, newest first; none predates the newer user. */
  conversationPage(userId: string, otherUserId: string, page: MessagePage): Promise<ChatMessage[]> {
    const [lo, hi] = pair(userId, otherUserId);
    return readPage(async (bucket, before, after, limit) => {
      const params = [big(lo), big(hi), bucket, before, after, limit];
      const rs = await this.execute("list conversation", this.#cql.conversation, params);
      return rs.rows.map((row) => toMessage(row, { kind: "user", id: idOf(row, "recipient_id") }));
    }, page, firstBucketOf(hi));
  }

  /** Ids and senders of a room's messages, newest first (as roomPage, two columns). */
  roomStubs(roomId: string, page: MessagePage): Promise<MessageStub[]> {
    return readPage(async (bucket, before, after, limit) => {
      const rs = await this.execute("list room message ids", this.#cql.roomStubs, [big(roomId), bucket, before, after, limit]);
      return rs.rows.map(toStub);
    }, page, firstBucketOf(roomId));
  }

  /** Ids and senders of a conversation's messages, newest first (as conversationPage, two columns). */
  conversationStubs(userId: string, otherUserId: string, page: MessagePage): Promise<MessageStub[]> {
    const [lo, hi] = pair(userId, otherUserId);
    return readPage(async (bucket, before, after, limit) => {
      const rs = await this.execute("list conversation message ids", this.#cql.conversationStubs, [big(lo), big(hi), bucket, before, after, limit]);
      return rs.rows.map(toStub);
    }, page, firstBucketOf(hi));
  }
}

/** A row of a stub query (message_id, sender_id). */
function toStub(row: cassandra.types.Row): MessageStub {
  return { id: idOf(row, "message_id"), senderId: idOf(row, "sender_id") };
}

/** The user pair in a fixed order, so both directions share one conversation partition. */
function pair(a: string, b: string): [string, string] {
  return compareIds(a, b) <= 0 ? [a, b] : [b, a];
}
