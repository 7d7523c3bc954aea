/** The store's CQL outside the message tables (see message-tables.ts), for one keyspace. */
import { MESSAGE_COLUMNS } from "./rows.js";

/** Statement texts by use; every one is run prepared. `claim*` are LWTs (IF NOT EXISTS). */
export interface StoreStatements {
  readonly claimUsername: string;
  readonly insertUser: string;
  readonly userById: string;
  readonly userByKey: string;
  readonly claimRoomName: string;
  readonly insertRoom: string;
  readonly listRoom: string;
  readonly roomById: string;
  readonly listRooms: string;
  readonly findKey: string;
  readonly rememberKey: string;
  readonly revoke: string;
  readonly isRevoked: string;
  readonly recordRevocation: string;
  readonly revocationsSince: string;
  readonly redeemOnce: string;
  readonly insertMarker: string;
  readonly dropOlderMarkers: string;
  readonly findMarker: string;
}

/** The statements for keyspace `ks` (an identifier already checked by checkKeyspaceName). */
export function storeStatements(ks: string): StoreStatements {
  const room = "room_id, name, created_by, created_at_ms";
  return {
    claimUsername: `INSERT INTO ${ks}.users_by_name (name_key, user_id, username, password_hash, created_at_ms)
      VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
    insertUser: `INSERT INTO ${ks}.users (user_id, username, created_at_ms) VALUES (?, ?, ?)`,
    userById: `SELECT user_id, username, created_at_ms FROM ${ks}.users WHERE user_id = ?`,
    userByKey: `SELECT user_id, username, password_hash, created_at_ms FROM ${ks}.users_by_name WHERE name_key = ?`,
    claimRoomName: `INSERT INTO ${ks}.rooms_by_name (name_key, room_id) VALUES (?, ?) IF NOT EXISTS`,
    insertRoom: `INSERT INTO ${ks}.rooms (${room}) VALUES (?, ?, ?, ?)`,
    // The one listing partition: shard is always 0 (see migrations.ts).
    listRoom: `INSERT INTO ${ks}.rooms_by_id (shard, ${room}) VALUES (0, ?, ?, ?, ?)`,
    roomById: `SELECT ${room} FROM ${ks}.rooms WHERE room_id = ?`,
    listRooms: `SELECT ${room} FROM ${ks}.rooms_by_id WHERE shard = 0 AND room_id > ? LIMIT ?`,
    findKey: `SELECT expires_at_ms, channel_kind, channel_id, ${MESSAGE_COLUMNS}
      FROM ${ks}.idempotency_keys WHERE owner_id = ? AND idem_key = ?`,
    rememberKey: `INSERT INTO ${ks}.idempotency_keys
      (owner_id, idem_key, expires_at_ms, channel_kind, channel_id, ${MESSAGE_COLUMNS})
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    revoke: `INSERT INTO ${ks}.revoked_tokens (token_id, expires_at_ms) VALUES (?, ?) USING TTL ?`,
    isRevoked: `SELECT token_id FROM ${ks}.revoked_tokens WHERE token_id = ?`,
    recordRevocation: `INSERT INTO ${ks}.revocations_by_time (bucket, revoked_at_ms, token_id, expires_at_ms)
      VALUES (?, ?, ?, ?) USING TTL ?`,
    revocationsSince: `SELECT token_id, expires_at_ms, revoked_at_ms FROM ${ks}.revocations_by_time
      WHERE bucket = ? AND revoked_at_ms >= ?`,
    // A lightweight transaction: uniqueness is the point (never on the message path).
    redeemOnce: `INSERT INTO ${ks}.redeemed_once (nonce) VALUES (?) IF NOT EXISTS USING TTL ?`,
    // Read markers (migration 4): the newest row of a partition is the marker.
    insertMarker: `INSERT INTO ${ks}.read_markers (user_id, channel_kind, channel_id, message_id) VALUES (?, ?, ?, ?)`,
    dropOlderMarkers: `DELETE FROM ${ks}.read_markers WHERE user_id = ? AND channel_kind = ? AND channel_id = ? AND message_id < ?`,
    findMarker: `SELECT message_id FROM ${ks}.read_markers WHERE user_id = ? AND channel_kind = ? AND channel_id = ? LIMIT 1`,
  };
}
