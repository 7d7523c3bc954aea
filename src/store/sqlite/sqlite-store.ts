/**
 * The embedded store: one SQLite file (better-sqlite3) in WAL mode. Message appends that arrive
 * within one event-loop turn are written in one transaction (one fsync), which is what lets a
 * single file take tens of thousands of posts a second; each caller's promise resolves only once
 * its row is committed.
 */
import Database from "better-sqlite3";
import type { Database as Db, Statement } from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ChatMessage, MessagePage, RoomRecord, UserCredentials, UserRecord } from "../../domain/model.js";
import { type AppendResult, type IdempotencyKey, type Store, UniqueViolation } from "../store.js";
import { migrations } from "./migrations.js";
import { MessageRows } from "./message-rows.js";

export interface SqliteStoreOptions {
  /** Path of the database file. */
  readonly file: string;
  /** FULL survives power loss; NORMAL survives a process crash only. */
  readonly synchronous?: "FULL" | "NORMAL";
}

interface PendingAppend {
  readonly message: ChatMessage;
  readonly idempotency: IdempotencyKey | undefined;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type Row = Record<string, bigint | string | null>;

export class SqliteStore implements Store {
  readonly #db: Db;
  readonly #rows: MessageRows;
  readonly #stmt: Record<string, Statement>;
  #pending: PendingAppend[] = [];
  #flushScheduled = false;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.file), { recursive: true });
    this.#db = new Database(options.file);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
    this.#db.pragma("foreign_keys = ON");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.defaultSafeIntegers(true);
    migrate(this.#db);
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
      findKey: db.prepare(
        "SELECT message_id FROM idempotency_keys WHERE sender_id = ? AND key = ? AND expires_at_ms > ?",
      ),
      upsertKey: db.prepare(
        "INSERT OR REPLACE INTO idempotency_keys (sender_id, key, message_id, expires_at_ms) VALUES (?, ?, ?, ?)",
      ),
      revoke: db.prepare("INSERT OR REPLACE INTO revoked_tokens (token_id, expires_at_ms) VALUES (?, ?)"),
      isRevoked: db.prepare("SELECT 1 FROM revoked_tokens WHERE token_id = ?"),
      purgeRevoked: db.prepare("DELETE FROM revoked_tokens WHERE expires_at_ms < ?"),
      purgeKeys: db.prepare("DELETE FROM idempotency_keys WHERE expires_at_ms < ?"),
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
    return new Promise((resolve, reject) => {
      this.#pending.push({ message, idempotency, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Writes every append queued during this turn in one transaction. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const results: AppendResult[] = [];
    try {
      // IMMEDIATE takes the write lock up front: with several worker processes on one file, a
      // deferred transaction that read first could fail to upgrade (SQLITE_BUSY_SNAPSHOT).
      this.#db.transaction(() => {
        for (const item of batch) results.push(this.#appendOne(item.message, item.idempotency));
      }).immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]!));
  }

  #appendOne(message: ChatMessage, idempotency: IdempotencyKey | undefined): AppendResult {
    if (idempotency) {
      const sender = BigInt(idempotency.senderId);
      const seen = this.#stmt.findKey!.get(sender, idempotency.key, Date.now()) as Row | undefined;
      if (seen) {
        const first = this.#rows.byId(String(seen.message_id));
        if (first) return { message: first, created: false };
      }
      this.#stmt.upsertKey!.run(sender, idempotency.key, BigInt(message.id), idempotency.expiresAtMs);
    }
    this.#rows.insert(message);
    return { message, created: true };
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
      "((recipient_id = ? AND sender_id = ?) OR (recipient_id = ? AND sender_id = ?))",
      [me, other, other, me],
      page,
    );
  }

  async revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    this.#stmt.revoke!.run(tokenId, expiresAtMs);
  }

  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.#stmt.isRevoked!.get(tokenId) !== undefined;
  }

  async close(): Promise<void> {
    if (this.#pending.length > 0) this.#flush();
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
