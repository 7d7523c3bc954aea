/**
 * Conversions between CQL rows and domain records. Ids are CQL `bigint` columns, read and
 * written as JS bigint (the client runs with `useBigIntAsLong`), and decimal strings outside.
 */
import type cassandra from "cassandra-driver";
import type { Channel, ChatMessage, RoomRecord, UserCredentials, UserRecord } from "../../domain/model.js";
import type { Revocation } from "../store.js";

type Row = cassandra.types.Row;

/** The largest CQL bigint: the open upper bound of a page. */
export const MAX_BIGINT = (1n << 63n) - 1n;

/** A decimal id as a CQL bigint value. */
export function big(id: string): bigint {
  return BigInt(id);
}

/** A bigint column as a decimal id; throws when the column is missing or not a bigint. */
export function idOf(row: Row, column: string): string {
  const value: unknown = row.get(column);
  if (typeof value !== "bigint") throw new TypeError(`column ${column} is not a bigint: ${String(value)}`);
  return value.toString();
}

function textOf(row: Row, column: string): string {
  const value: unknown = row.get(column);
  return typeof value === "string" ? value : "";
}

function msOf(row: Row, column: string): number {
  const value: unknown = row.get(column);
  return typeof value === "bigint" ? Number(value) : 0;
}

/** The columns every message table shares, in the order messageValues() binds them. */
export const MESSAGE_COLUMNS = "message_id, sender_id, sender_name, body, created_at_ms, client_message_id";

/** Bind values for MESSAGE_COLUMNS. */
export function messageValues(m: ChatMessage): unknown[] {
  return [big(m.id), big(m.senderId), m.senderName, m.text, BigInt(m.createdAtMs), m.clientMessageId];
}

/** A message row of any message table, in the given channel. */
export function toMessage(row: Row, channel: Channel): ChatMessage {
  return {
    id: idOf(row, "message_id"),
    channel,
    senderId: idOf(row, "sender_id"),
    senderName: textOf(row, "sender_name"),
    text: textOf(row, "body"),
    createdAtMs: msOf(row, "created_at_ms"),
    clientMessageId: textOf(row, "client_message_id"),
  };
}

/** A row of idempotency_keys back to the message it names (the row carries a copy). */
export function toRememberedMessage(row: Row): ChatMessage {
  const kind = textOf(row, "channel_kind") === "room" ? "room" : "user";
  return toMessage(row, { kind, id: idOf(row, "channel_id") });
}

/** A users (or users_by_name) row as a public user record: no credentials. */
export function toUser(row: Row): UserRecord {
  return { id: idOf(row, "user_id"), username: textOf(row, "username"), createdAtMs: msOf(row, "created_at_ms") };
}

/** A users_by_name row with what sign-in checks. */
export function toCredentials(row: Row): UserCredentials {
  return { ...toUser(row), passwordHash: textOf(row, "password_hash") };
}

/** A rooms (or rooms_by_id) row as a room record. */
export function toRoom(row: Row): RoomRecord {
  return {
    id: idOf(row, "room_id"),
    name: textOf(row, "name"),
    createdBy: idOf(row, "created_by"),
    createdAtMs: msOf(row, "created_at_ms"),
  };
}

/** A row of `revocations_by_time`. */
export function toRevocation(row: Row): Revocation {
  return { tokenId: textOf(row, "token_id"), expiresAtMs: msOf(row, "expires_at_ms"), revokedAtMs: msOf(row, "revoked_at_ms") };
}
