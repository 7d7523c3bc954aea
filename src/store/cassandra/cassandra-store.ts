/**
 * The scale-out store on Apache Cassandra (5.0). Every statement is prepared and routed
 * token-aware to a replica in the local data centre. Writes and reads use the configured
 * consistency (LOCAL_QUORUM by default); lightweight transactions (SERIAL) are used only where
 * uniqueness needs them — usernames and room names — never on the message path. Engine
 * timeouts and unreachable replicas surface as UnavailableError (see cassandra-errors.ts).
 */
import cassandra from "cassandra-driver";
import type { ChatMessage, MessagePage, RoomRecord, UserCredentials, UserRecord } from "../../domain/model.js";
import type { Logger } from "../../observability/logger.js";
import { type AppendResult, type IdempotencyKey, type Store, UniqueViolation } from "../store.js";
import { toStoreError } from "./cassandra-errors.js";
import { type Execute, MessageTables } from "./message-tables.js";
import { checkKeyspaceName, migrate } from "./migrations.js";
import { big, messageValues, toCredentials, toRememberedMessage, toRoom, toUser } from "./rows.js";
import { type StoreStatements, storeStatements } from "./statements.js";

const { Client, policies, types } = cassandra;

/** How to reach the cluster and what to create there (config.cassandra). */
export interface CassandraStoreOptions {
  /** "host:port" or "host" (port 9042). */
  readonly contactPoints: readonly string[];
  readonly localDc: string;
  readonly keyspace: string;
  /** A CQL replication map, used only when the keyspace is created. */
  readonly replication: string;
  /** ONE, LOCAL_ONE, QUORUM, LOCAL_QUORUM or ALL. */
  readonly consistency: string;
  /** Client-side limit on one request; default 12 s (above the server's own timeouts). */
  readonly requestTimeoutMs?: number;
}

const CONSISTENCIES: Readonly<Record<string, number>> = {
  ONE: types.consistencies.one,
  LOCAL_ONE: types.consistencies.localOne,
  QUORUM: types.consistencies.quorum,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  ALL: types.consistencies.all,
};

/** Cassandra refuses TTLs above 20 years. */
const MAX_TTL_SECONDS = 630_720_000;
const IDEMPOTENT: cassandra.QueryOptions = { isIdempotent: true };

/** The Store port on Cassandra; open it with `CassandraStore.connect`, release it with `close()`. */
export class CassandraStore implements Store {
  readonly #messages: MessageTables;
  readonly #cql: StoreStatements;
  #closed = false;

  private constructor(
    private readonly client: cassandra.Client,
    ks: string,
    private readonly logger: Logger,
  ) {
    this.#messages = new MessageTables(this.#execute, ks);
    this.#cql = storeStatements(ks);
  }

  /** Connects, creates the keyspace and applies pending migrations; the store is then ready. */
  static async connect(options: CassandraStoreOptions, logger: Logger): Promise<CassandraStore> {
    const ks = checkKeyspaceName(options.keyspace);
    const consistency = CONSISTENCIES[options.consistency];
    if (consistency === undefined) throw new Error(`unknown Cassandra consistency ${JSON.stringify(options.consistency)}`);
    const { TokenAwarePolicy, DCAwareRoundRobinPolicy } = policies.loadBalancing;
    const client = new Client({
      contactPoints: [...options.contactPoints],
      localDataCenter: options.localDc,
      policies: { loadBalancing: new TokenAwarePolicy(new DCAwareRoundRobinPolicy(options.localDc)) },
      // SERIAL, not LOCAL_SERIAL: a name must be unique across data centres.
      queryOptions: { consistency, serialConsistency: types.consistencies.serial, prepare: true },
      encoding: { useBigIntAsLong: true },
      socketOptions: { readTimeout: options.requestTimeoutMs ?? 12_000 },
    });
    try {
      await client.connect();
      const applied = await migrate(client, ks, options.replication, logger);
      logger.info({ contactPoints: options.contactPoints, keyspace: ks, applied }, "cassandra store ready");
    } catch (error) {
      await client.shutdown().catch(() => undefined);
      const where = options.contactPoints.join(", ");
      throw new Error(`cannot open the Cassandra store at ${where} (keyspace ${ks}): ${String(error)}`, { cause: error });
    }
    return new CassandraStore(client, ks, logger);
  }

  /**
   * Writes the name claim (LWT, carrying the credentials) first: a rejected duplicate stores
   * nothing at all. Should the by-id write then fail, the user can sign in but is not found by id
   * until the row is written again (the write is an idempotent upsert).
   */
  async createUser(user: UserCredentials & { readonly usernameKey: string }): Promise<void> {
    const id = big(user.id);
    const at = BigInt(user.createdAtMs);
    const claimed = [user.usernameKey, id, user.username, user.passwordHash, at];
    const claim = await this.#execute("create user", this.#cql.claimUsername, claimed);
    if (!claim.wasApplied()) throw new UniqueViolation("username");
    await this.#execute("create user", this.#cql.insertUser, [id, user.username, at], IDEMPOTENT);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = (await this.#execute("find user", this.#cql.userById, [big(id)])).first();
    return row ? toUser(row) : undefined;
  }

  async findUserByNameKey(usernameKey: string): Promise<UserCredentials | undefined> {
    const row = (await this.#execute("find user", this.#cql.userByKey, [usernameKey])).first();
    return row ? toCredentials(row) : undefined;
  }

  /**
   * Claims the name (LWT), then writes the room and its listing row in one logged batch, so a
   * room is findable exactly when it is listed. Rooms are created rarely: the batchlog is cheap here.
   * Should the batch fail after the claim, the name stays taken by a room nobody can see.
   */
  async createRoom(room: RoomRecord & { readonly nameKey: string }): Promise<void> {
    const id = big(room.id);
    const claim = await this.#execute("create room", this.#cql.claimRoomName, [room.nameKey, id]);
    if (!claim.wasApplied()) throw new UniqueViolation("room_name");
    const values = [id, room.name, big(room.createdBy), BigInt(room.createdAtMs)];
    try {
      await this.client.batch(
        [
          { query: this.#cql.insertRoom, params: values },
          { query: this.#cql.listRoom, params: values },
        ],
        { prepare: true, logged: true, isIdempotent: true },
      );
    } catch (error) {
      throw this.#mapped(error, "create room");
    }
  }

  async findRoom(id: string): Promise<RoomRecord | undefined> {
    const row = (await this.#execute("find room", this.#cql.roomById, [big(id)])).first();
    return row ? toRoom(row) : undefined;
  }

  async listRooms(afterId: string | undefined, limit: number): Promise<RoomRecord[]> {
    if (limit <= 0) return [];
    const rs = await this.#execute("list rooms", this.#cql.listRooms, [afterId === undefined ? -1n : big(afterId), limit]);
    return rs.rows.map(toRoom);
  }

  /**
   * Idempotency without LWT: read the key; if it is live, answer with the message it remembers;
   * otherwise write the message and the key in one logged batch, so a node killed mid-append
   * leaves both or neither — never a stored message whose retry (on another node) would store it
   * again under a new id. Two identical retries racing each other can both miss the key and both
   * store their message (under different ids); the window is one round trip and the cost a
   * visible duplicate, accepted to keep Paxos off the message path. Posts without a key skip the
   * read and the batchlog.
   */
  async appendMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<AppendResult> {
    const ttl = idempotency ? ttlUntil(idempotency.expiresAtMs) : 0;
    if (!idempotency || ttl <= 0) {
      await this.#messages.write(message);
      return { message, created: true };
    }
    const owner = [big(idempotency.senderId), idempotency.key];
    const row = (await this.#execute("read idempotency key", this.#cql.findKey, owner)).first();
    if (row && Number(row.get("expires_at_ms") as unknown) > Date.now()) {
      return { message: toRememberedMessage(row), created: false };
    }
    const { channel } = message;
    const remembered = [...owner, BigInt(idempotency.expiresAtMs), channel.kind, big(channel.id), ...messageValues(message), ttl];
    try {
      await this.client.batch(
        [...this.#messages.inserts(message), { query: this.#cql.rememberKey, params: remembered }],
        { prepare: true, logged: true, isIdempotent: true },
      );
    } catch (error) {
      throw this.#mapped(error, "append message");
    }
    return { message, created: true };
  }

  /** As appendMessage, but the message is written even when its key already names another. */
  async recordMessage(message: ChatMessage, idempotency?: IdempotencyKey): Promise<void> {
    const ttl = idempotency ? ttlUntil(idempotency.expiresAtMs) : 0;
    if (!idempotency || ttl <= 0 || (await this.findMessageByKey(idempotency.senderId, idempotency.key))) {
      await this.#messages.write(message);
      return;
    }
    const { channel } = message;
    const remembered = [big(idempotency.senderId), idempotency.key, BigInt(idempotency.expiresAtMs), channel.kind, big(channel.id), ...messageValues(message), ttl];
    try {
      await this.client.batch(
        [...this.#messages.inserts(message), { query: this.#cql.rememberKey, params: remembered }],
        { prepare: true, logged: true, isIdempotent: true },
      );
    } catch (error) {
      throw this.#mapped(error, "record message");
    }
  }

  async findMessageByKey(senderId: string, key: string): Promise<ChatMessage | undefined> {
    const row = (await this.#execute("read idempotency key", this.#cql.findKey, [big(senderId), key])).first();
    return row && Number(row.get("expires_at_ms") as unknown) > Date.now() ? toRememberedMessage(row) : undefined;
  }

  listRoomMessages(roomId: string, page: MessagePage): Promise<ChatMessage[]> {
    return this.#messages.roomPage(roomId, page);
  }

  listInbox(userId: string, page: MessagePage): Promise<ChatMessage[]> {
    return this.#messages.inboxPage(userId, page);
  }

  listConversation(userId: string, otherUserId: string, page: MessagePage): Promise<ChatMessage[]> {
    return this.#messages.conversationPage(userId, otherUserId, page);
  }

  /** The row expires with the token (TTL), so the table never needs purging. */
  async revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    const ttl = Math.max(1, ttlUntil(expiresAtMs));
    await this.#execute("revoke token", this.#cql.revoke, [tokenId, BigInt(expiresAtMs), ttl], IDEMPOTENT);
  }

  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return (await this.#execute("check revoked token", this.#cql.isRevoked, [tokenId])).rowLength > 0;
  }

  /** `INSERT … IF NOT EXISTS` (Paxos): one redemption wins on any node; the row expires with it. */
  async redeemOnce(nonce: string, expiresAtMs: number): Promise<boolean> {
    const ttl = Math.max(1, ttlUntil(expiresAtMs));
    return (await this.#execute("redeem once", this.#cql.redeemOnce, [nonce, ttl])).wasApplied();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.shutdown();
  }

  /** Every statement goes through here: prepared, and with driver failures mapped. */
  readonly #execute: Execute = async (operation, cql, params, options) => {
    try {
      return await this.client.execute(cql, [...params], { prepare: true, ...options });
    } catch (error) {
      throw this.#mapped(error, operation);
    }
  };

  #mapped(error: unknown, operation: string): unknown {
    const mapped = toStoreError(error, operation);
    if (mapped !== error) this.logger.warn({ err: error, operation }, "cassandra did not answer");
    return mapped;
  }
}

/** Whole seconds from now until `expiresAtMs` (rounded up, capped at Cassandra's maximum TTL). */
function ttlUntil(expiresAtMs: number): number {
  return Math.min(MAX_TTL_SECONDS, Math.ceil((expiresAtMs - Date.now()) / 1000));
}
