/**
 * The embedded store: one SQLite file (better-sqlite3) in WAL mode. Message appends are written
 * on their own thread with group commit (see append-thread.ts): everything that arrives while
 * one batch is being committed goes in the next transaction (one fsync), which is what lets a
 * single file take tens of thousands of posts a second without the event loop ever waiting for
 * the disk; each caller's promise resolves only once its row is committed. Reads, and the rare
 * writes of users, rooms and revocations, use this thread's own connection.
 */
import type { Database as Db, Statement } from "better-sqlite3";
import { dirname } from "node:path";
import { ensurePrivateDir, ensurePrivateFile, type Loosened, tightenIfPresent } from "../../private-files.js";
import type { ChatMessage, MessagePage, MessageStub, ReadChannel, RoomRecord, UserCredentials, UserRecord } from "../../domain/model.js";
import { type AppendResult, type IdempotencyKey, type Revocation, type Store, UniqueViolation } from "../store.js";
import { AppendThread } from "./append-thread.js";
import { migrations } from "./migrations.js";
import { MessageRows } from "./message-rows.js";
import { openDatabase, type Synchronous } from "./open-database.js";

export interface SqliteStoreOptions {
  /** Path of the database file. */
  readonly file: string;
  /** FULL survives power loss; NORMAL survives a process crash only. */
  readonly synchronous?: Synchronous;
  /** Told which of the directory and files had been open to other users (they are owner-only now). */
  readonly onLoosened?: (found: readonly Loosened[]) => void;
}

type Row = Record<string, bigint | string | null>;

/** The messages between two users, both ways; binds (me, other, other, me). */
const CONVERSATION = "((recipient_id = ? AND sender_id = ?) OR (recipient_id = ? AND sender_id = ?))";

export class SqliteStore implements Store {
  readonly #db: Db;
  readonly #rows: MessageRows;
  readonly #stmt: Record<string, Statement>;
  #redeemPurgedAtMs = 0;
  readonly #appends: AppendThread;

  constructor(options: SqliteStoreOptions) {
    // Owner-only directory and files (password hashes, direct messages) whatever the umask. The
    // main file is made 0600 before SQLite opens it: SQLite creates -wal, -shm and -journal with
    // the main file's mode. Ones left by an older, looser start are tightened here.
    const { file } = options;
    const loosened = [
      ...ensurePrivateDir(dirname(file)),
      ...ensurePrivateFile(file),
      ...[`${file}-wal`, `${file}-shm`, `${file}-journal`].flatMap(tightenIfPresent),
    ];
    if (loosened.length > 0) options.onLoosened?.(loosened);
    const synchronous = options.synchronous ?? "FULL";
    this.#db = openDatabase(options.file, synchronous);
    migrate(this.#db);
    this.#appends = new AppendThread({ file: options.file, synchronous });
    this.#rows = new MessageRows(this.#db);
    const db = this.#db;
    this.#stmt = {
      insertUser: db.prepare(
        "INSERT INTO users (id, username, username_key, password_hash, created_at_ms) VALUES (?, ?, ?, ?, ?)",
      ),
      userById: db.prepare("SELECT id, username, created_at_ms FROM users WHERE id = ?"),
      userByKey: db.prepare("SELECT id, username, password_hash, created_at_ms FROM users WHERE username_key = ?"),
      insertRoom: db.prepare("INSERT INTO rooms (id, name, name_key, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?)"),
      roomById: db.prepare("SELECT id, name, created_by, created_at_ms FROM rooms WHERE id = ?"),
      listRooms: db.prepare("SELECT id, name, created_by, created_at_ms FROM rooms WHERE id > ? ORDER BY id LIMIT ?"),
      revoke: db.prepare("INSERT OR REPLACE INTO revoked_tokens (token_id, expires_at_ms, revoked_at_ms) VALUES (?, ?, ?)"),
      isRevoked: db.prepare("SELECT 1 FROM revoked_tokens WHERE token_id = ?"),
      revokedSince: db.prepare(
        "SELECT token_id, expires_at_ms, revoked_at_ms FROM revoked_tokens WHERE revoked_at_ms >= ? AND expires_at_ms > ? ORDER BY revoked_at_ms, token_id",
      ),
      purgeRevoked: db.prepare("DELETE FROM revoked_tokens WHERE expires_at_ms < ?"),
      redeem: db.prepare("INSERT OR IGNORE INTO redeemed_once (nonce, expires_at_ms) VALUES (?, ?)"),
      purgeRedeemed: db.prepare("DELETE FROM redeemed_once WHERE expires_at_ms < ?"),
      purgeKeys: db.prepare("DELETE FROM idempotency_keys WHERE expires_at_ms < ?"),
      findKey: db.prepare("SELECT message_id FROM idempotency_keys WHERE sender_id = ? AND key = ? AND expires_at_ms > ?"),
      // One statement: atomic against every process sharing the file, so the marker only rises.
      advanceMarker: db.prepare(
        `INSERT INTO read_markers (user_id, channel_kind, channel_id, message_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, channel_kind, channel_id) DO UPDATE SET message_id = max(message_id, excluded.message_id)
         RETURNING message_id`,
      ),
      findMarker: db.prepare("SELECT message_id FROM read_markers WHERE user_id = ? AND channel_kind = ? AND channel_id = ?"),
    };
    // Expired revocations and idempotency keys are dead weight: drop them at every start.
    this.#stmt.purgeRevoked!.run(Date.now());
    this.#stmt.purgeKeys!.run(Date.now());
  }

  async createUser(user: UserCredentials & { usernameKey: string }): Promise<void> {
    try {
      this.#stmt.insertUser!.run(BigInt(user.id), user.username, user.usernameKey, user.passwordHash, user.createdAtMs);
    } catch (error) {
      throw uniqueOr(error, "username");
    }
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = this.#stmt.userById!.get(BigInt(id)) as Row | undefined;
    return row && toUser(row);
  }

  async findUserByNameKey(usernameKey: string): Promise<UserCredentials | undefined> {
    const row = this.#stmt.userByKey!.get(usernameKey) as Row | undefined;
    return row && { ...toUser(row), passwordHash: String(row.password_hash) };
  }

  async createRoom(room: RoomRecord & { nameKey: string }): Promise<void> {
    try {
      this.#stmt.insertRoom!.run(BigInt(room.id), room.name, room.nameKey, BigInt(room.createdBy), room.createdAtMs);
    } catch (error) {
      throw uniqueOr(error, "room_name");
    }
  }

  async findRoom(id: string): Promise<RoomRecord | undefined> {
    const row = this.#stmt.roomById!.get(BigInt(id)) as Row | undefined;
    return row && toRoom(row);
  }

  async listRooms(afterId: string | undefined, limit: number): Promise<RoomRecord[]> {
    const rows = this.#stmt.listRooms!.all(BigInt(afterId ?? "0"), limit) as Row[];
    return rows.map(toRoom);
  }

  appendMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<AppendResult> {
    return this.#appends.append(message, idempotency);
  }

  async recordMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<void> {
    const result = await this.appendMessage(message, idempotency);
    // The key names another message: the log delivered this one all the same, so store it too.
    if (!result.created && result.message.id !== message.id) await this.appendMessage(message, undefined);
  }

  async findMessageByKey(senderId: string, key: string): Promise<ChatMessage | undefined> {
    const row = this.#stmt.findKey!.get(BigInt(senderId), key, Date.now()) as { message_id: bigint } | undefined;
    return row && this.#rows.byId(String(row.message_id));
  }

  async listRoomMessages(roomId: string, page: MessagePage): Promise<ChatMessage[]> {
    return this.#rows.page("room_id = ?", [BigInt(roomId)], page);
  }

  async listInbox(userId: string, page: MessagePage): Promise<ChatMessage[]> {
    return this.#rows.page("recipient_id = ?", [BigInt(userId)], page);
  }

  async listConversation(userId: string, otherUserId: string, page: MessagePage): Promise<ChatMessage[]> {
    const me = BigInt(userId);
    const other = BigInt(otherUserId);
    return this.#rows.page(
      CONVERSATION,
      [me, other, other, me],
      page,
    );
  }

  async listMessageStubs(readerId: string, channel: ReadChannel, page: MessagePage): Promise<MessageStub[]> {
    if (channel.kind === "room") return this.#rows.stubs("room_id = ?", [BigInt(channel.id)], page);
    const me = BigInt(readerId);
    const other = BigInt(channel.withUserId);
    return this.#rows.stubs(
      CONVERSATION,
      [me, other, other, me],
      page,
    );
  }

  async advanceReadMarker(readerId: string, channel: ReadChannel, messageId: string): Promise<string> {
    const row = this.#stmt.advanceMarker!.get(...markerKey(readerId, channel), BigInt(messageId)) as { message_id: bigint };
    return String(row.message_id);
  }

  async findReadMarker(readerId: string, channel: ReadChannel): Promise<string | undefined> {
    const row = this.#stmt.findMarker!.get(...markerKey(readerId, channel)) as { message_id: bigint } | undefined;
    return row && String(row.message_id);
  }

  async revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    this.#stmt.revoke!.run(tokenId, expiresAtMs, Date.now());
  }

  async listRevocationsSince(sinceMs: number): Promise<Revocation[]> {
    const rows = this.#stmt.revokedSince!.all(Math.floor(sinceMs), Date.now()) as Row[];
    return rows.map((row) => ({ tokenId: String(row.token_id), expiresAtMs: Number(row.expires_at_ms), revokedAtMs: Number(row.revoked_at_ms) }));
  }

  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.#stmt.isRevoked!.get(tokenId) !== undefined;
  }

  /** One INSERT OR IGNORE: SQLite's write lock makes it atomic across the processes sharing the file. */
  async redeemOnce(nonce: string, expiresAtMs: number): Promise<boolean> {
    const now = Date.now();
    if (now - this.#redeemPurgedAtMs > 60_000) {
      this.#redeemPurgedAtMs = now;
      this.#stmt.purgeRedeemed!.run(now);
    }
    return this.#stmt.redeem!.run(nonce, expiresAtMs).changes === 1;
  }

  async close(): Promise<void> {
    await this.#appends.close();
    if (this.#db.open) {
      this.#db.pragma("wal_checkpoint(TRUNCATE)");
      this.#db.close();
    }
  }
}

function migrate(db: Db): void {
  const current = Number(db.pragma("user_version", { simple: true }));
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** The key columns of read_markers: user, channel kind, channel id (the room, or the other user). */
function markerKey(readerId: string, channel: ReadChannel): [bigint, string, bigint] {
  return [BigInt(readerId), channel.kind, BigInt(channel.kind === "room" ? channel.id : channel.withUserId)];
}

function uniqueOr(error: unknown, what: "username" | "room_name"): unknown {
  const code = (error as { code?: unknown }).code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" ? new UniqueViolation(what) : error;
}

function toUser(row: Row): UserRecord {
  return { id: String(row.id), username: String(row.username), createdAtMs: Number(row.created_at_ms) };
}

function toRoom(row: Row): RoomRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    createdBy: String(row.created_by),
    createdAtMs: Number(row.created_at_ms),
  };
}
