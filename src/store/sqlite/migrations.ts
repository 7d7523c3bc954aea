/**
 * Schema of the embedded store, as numbered migrations applied in order at start-up.
 * user_version (a SQLite pragma) records how far a database has come.
 */
export const migrations: readonly string[] = [
  // 1: the whole initial model.
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
  );
  CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
  );
  -- Room and direct messages share one table: one id sequence, one insert path.
  -- Exactly one of room_id / recipient_id is set.
  CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    room_id           INTEGER,
    recipient_id      INTEGER,
    sender_id         INTEGER NOT NULL,
    sender_name       TEXT NOT NULL,
    text              TEXT NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    client_message_id TEXT NOT NULL DEFAULT '',
    CHECK ((room_id IS NULL) <> (recipient_id IS NULL))
  );
  CREATE INDEX messages_by_room ON messages (room_id, id) WHERE room_id IS NOT NULL;
  CREATE INDEX messages_by_recipient ON messages (recipient_id, id) WHERE recipient_id IS NOT NULL;
  CREATE INDEX messages_by_dm_sender ON messages (sender_id, recipient_id, id) WHERE recipient_id IS NOT NULL;
  CREATE TABLE revoked_tokens (
    token_id      TEXT PRIMARY KEY,
    expires_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE idempotency_keys (
    sender_id     INTEGER NOT NULL,
    key           TEXT NOT NULL,
    message_id    INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (sender_id, key)
  ) WITHOUT ROWID;
  `,
  // 2: single-use values (stream-ticket nonces), redeemed once by any worker process.
  `
  CREATE TABLE redeemed_once (
    nonce         TEXT PRIMARY KEY,
    expires_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: when each revocation was stored, for the sweeps that end revoked tokens' streams (rows from before: 0).
  `
  ALTER TABLE revoked_tokens ADD COLUMN revoked_at_ms INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX revoked_tokens_by_time ON revoked_tokens (revoked_at_ms);
  `,
  // 4: read markers: per user and channel ('room' + room id, or 'direct' + the other user's id),
  // the newest message id marked read; only ever raised (sqlite-store.ts advanceReadMarker).
  `
  CREATE TABLE read_markers (
    user_id      INTEGER NOT NULL,
    channel_kind TEXT NOT NULL CHECK (channel_kind IN ('room', 'direct')),
    channel_id   INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_kind, channel_id)
  ) WITHOUT ROWID;
  `,
];
