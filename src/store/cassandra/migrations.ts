/**
 * Schema of the scale-out store as numbered CQL migrations, applied in order at start-up and
 * recorded in `schema_migrations`. Every statement is idempotent (`IF NOT EXISTS`), so a start
 * that dies half-way through a migration simply re-runs it. On a brand-new cluster start one
 * node first: Cassandra 5.0 does not serialise concurrent DDL from different coordinators.
 *
 * Ids are `bigint` (snowflakes). Message tables are partitioned by channel and one-day bucket
 * (domain/ids.ts bucketOf), newest first inside a partition, as in Discord's store.
 */
import type cassandra from "cassandra-driver";
import { BUCKET_MS } from "../../domain/ids.js";
import type { Logger } from "../../observability/logger.js";

/** One schema step. `statements` receive the keyspace name and must be idempotent. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly statements: (ks: string) => readonly string[];
}

/** Columns every message table carries after its key. */
const MESSAGE_BODY = "sender_id bigint, sender_name text, body text, created_at_ms bigint, client_message_id text";

/** TTL-only tables never see explicit deletes, so expired cells may be purged after the hint window. */
const TTL_TABLE = "gc_grace_seconds = 10800";

/** Every migration, oldest first; append new ones, never edit an applied one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "users, rooms, messages, idempotency keys, revoked tokens",
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.users (
         user_id bigint PRIMARY KEY, username text, created_at_ms bigint)`,
      // Written only with INSERT … IF NOT EXISTS: the name's owner, with what sign-in checks.
      `CREATE TABLE IF NOT EXISTS ${ks}.users_by_name (
         name_key text PRIMARY KEY, user_id bigint, username text, password_hash text, created_at_ms bigint)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms (
         room_id bigint PRIMARY KEY, name text, created_by bigint, created_at_ms bigint)`,
      // Written only with INSERT … IF NOT EXISTS.
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms_by_name (name_key text PRIMARY KEY, room_id bigint)`,
      // All rooms in one partition (shard = 0), oldest first, for listRooms. Rooms are few
      // (thousands, ~100 B each) and created rarely, so one partition stays far below 100 MB;
      // point lookups go to `rooms` instead, so this partition is not a read hot spot.
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms_by_id (
         shard int, room_id bigint, name text, created_by bigint, created_at_ms bigint,
         PRIMARY KEY ((shard), room_id)) WITH CLUSTERING ORDER BY (room_id ASC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.room_messages (
         room_id bigint, bucket int, message_id bigint, ${MESSAGE_BODY},
         PRIMARY KEY ((room_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)`,
      // Direct messages, once per recipient (inbox) and once per user pair (conversation).
      `CREATE TABLE IF NOT EXISTS ${ks}.inbox_messages (
         recipient_id bigint, bucket int, message_id bigint, ${MESSAGE_BODY},
         PRIMARY KEY ((recipient_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.conversation_messages (
         user_lo bigint, user_hi bigint, bucket int, message_id bigint, recipient_id bigint, ${MESSAGE_BODY},
         PRIMARY KEY ((user_lo, user_hi, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)`,
      // A key of a sender (owner_id) with a copy of the first message stored under it, so a
      // retry is answered with one read.
      `CREATE TABLE IF NOT EXISTS ${ks}.idempotency_keys (
         owner_id bigint, idem_key text, expires_at_ms bigint,
         channel_kind text, channel_id bigint, message_id bigint, ${MESSAGE_BODY},
         PRIMARY KEY ((owner_id, idem_key))) WITH ${TTL_TABLE}`,
      // Facts the data depends on, e.g. the bucket length the message tables were written with.
      `CREATE TABLE IF NOT EXISTS ${ks}.store_settings (name text PRIMARY KEY, value text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.revoked_tokens (
         token_id text PRIMARY KEY, expires_at_ms bigint) WITH ${TTL_TABLE}`,
    ],
  },
  {
    version: 2,
    description: "single-use values (stream-ticket nonces)",
    statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.redeemed_once (nonce text PRIMARY KEY) WITH ${TTL_TABLE}`],
  },
  {
    version: 3,
    description: "revocations by time, for the sweeps that end revoked tokens' streams on every node",
    // One partition per 10 minutes (cassandra-store.ts REVOCATION_BUCKET_MS), oldest first: a
    // sweep reads the newest one or two. Sign-outs are rare, so a partition stays small.
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.revocations_by_time (
         bucket int, revoked_at_ms bigint, token_id text, expires_at_ms bigint,
         PRIMARY KEY ((bucket), revoked_at_ms, token_id))
         WITH CLUSTERING ORDER BY (revoked_at_ms ASC, token_id ASC) AND ${TTL_TABLE}`,
    ],
  },
  {
    version: 4,
    description: "read markers",
    // One partition per user and channel ('room' + room id, or 'direct' + the other user's id);
    // the marker is the partition's newest row. Marking inserts a row and deletes the older ones
    // in one single-partition batch (cassandra-store.ts advanceReadMarker): monotonic without a
    // lightweight transaction. Its deletes are safe to purge early (3 h, not the default 10
    // days): a tombstone a replica missed can only bring back a row older than the newest, which
    // the marker ignores — so the partition's tombstones stay few.
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.read_markers (
         user_id bigint, channel_kind text, channel_id bigint, message_id bigint,
         PRIMARY KEY ((user_id, channel_kind, channel_id), message_id))
         WITH CLUSTERING ORDER BY (message_id DESC) AND gc_grace_seconds = 10800`,
    ],
  },
];

/** A CQL identifier safe to splice into statements (keyspace names cannot be bound). */
export function checkKeyspaceName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(name)) {
    throw new Error(`invalid Cassandra keyspace name ${JSON.stringify(name)}: letters, digits, _ (max 48)`);
  }
  return name;
}

/** DDL waits for schema agreement across the cluster: give it longer than a query. */
const DDL_TIMEOUT_MS = 60_000;

/**
 * Creates the keyspace with the given replication (a CQL map literal) if it is missing, then
 * applies every migration not yet recorded, in version order, and checks the bucket length.
 * Returns the versions applied.
 */
export async function migrate(
  client: cassandra.Client,
  ks: string,
  replication: string,
  logger: Logger,
  all: readonly Migration[] = migrations,
): Promise<number[]> {
  const ddl = (cql: string): Promise<unknown> => client.execute(cql, [], { readTimeout: DDL_TIMEOUT_MS });
  await ddl(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replication}`);
  await ddl(`CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (
    version int PRIMARY KEY, description text, applied_at timestamp)`);
  // Start-up is not a call anyone waits on: its statements get the DDL wait, not the request timeout.
  const seen = await client.execute(`SELECT version FROM ${ks}.schema_migrations`, [], { prepare: true, readTimeout: DDL_TIMEOUT_MS });
  const done = new Set(seen.rows.map((row) => Number(row.get("version") as unknown)));
  const applied: number[] = [];
  for (const migration of [...all].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    const started = Date.now();
    for (const statement of migration.statements(ks)) await ddl(statement);
    await client.execute(
      `INSERT INTO ${ks}.schema_migrations (version, description, applied_at) VALUES (?, ?, ?)`,
      [migration.version, migration.description, new Date()],
      { prepare: true, readTimeout: DDL_TIMEOUT_MS },
    );
    logger.info({ keyspace: ks, version: migration.version, ms: Date.now() - started }, "cassandra migration applied");
    applied.push(migration.version);
  }
  await checkBucketLength(client, ks);
  return applied;
}

/**
 * Records BUCKET_MS on first start and refuses to start with another one later: messages
 * written under one bucket length cannot be found under another.
 */
async function checkBucketLength(client: cassandra.Client, ks: string): Promise<void> {
  const current = String(BUCKET_MS);
  const rs = await client.execute(`SELECT value FROM ${ks}.store_settings WHERE name = 'bucket_ms'`, [], { prepare: true, readTimeout: DDL_TIMEOUT_MS });
  const stored: unknown = rs.first()?.get("value");
  if (typeof stored !== "string") {
    await client.execute(`INSERT INTO ${ks}.store_settings (name, value) VALUES ('bucket_ms', ?)`, [current], { prepare: true, readTimeout: DDL_TIMEOUT_MS });
  } else if (stored !== current) {
    throw new Error(`keyspace ${ks} holds messages in ${stored} ms buckets, but this build uses ${current} ms (BUCKET_MS)`);
  }
}
