/**
 * The scale-out store on Apache Cassandra (5.0). Every statement is prepared and routed
 * token-aware to a replica in the local data centre. Writes and reads use the configured
 * consistency (LOCAL_QUORUM by default); lightweight transactions (SERIAL) are used only where
 * uniqueness needs them — usernames and room names — never on the message path. A statement
 * waits at most `requestTimeoutMs` (client-options.ts); timeouts, lost connections and
 * unreachable replicas surface as UnavailableError (cassandra-errors.ts), logged once per outage
 * at warn (outage-log.ts).
 */
import cassandra from "cassandra-driver";
import type { ChatMessage, MessagePage, MessageStub, ReadChannel, RoomRecord, UserCredentials, UserRecord } from "../../domain/model.js";
import { compareIds } from "../../domain/ids.js";
import type { Logger } from "../../observability/logger.js";
import { type AppendResult, type IdempotencyKey, type Revocation, type Store, UniqueViolation } from "../store.js";
import { toStoreError } from "./cassandra-errors.js";
import { clientOptions } from "./client-options.js";
import { type Execute, MessageTables } from "./message-tables.js";
import { checkKeyspaceName, migrate } from "./migrations.js";
import { OutageLog } from "./outage-log.js";
import { big, idOf, messageValues, toCredentials, toRememberedMessage, toRevocation, toRoom, toUser } from "./rows.js";
import { type StoreStatements, storeStatements } from "./statements.js";

const { Client, types } = cassandra;

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
  /**
   * How long one statement may wait for its coordinator before it fails with UnavailableError;
   * default 1.5 s, so a call answers within 2 s when Cassandra is unreachable (config.ts).
   */
  readonly requestTimeoutMs?: number;
}

const CONSISTENCIES: Readonly<Record<string, number>> = {
  ONE: types.consistencies.one,
  LOCAL_ONE: types.consistencies.localOne,
  QUORUM: types.consistencies.quorum,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  ALL: types.consistencies.all,
};

/** The default of CassandraStoreOptions.requestTimeoutMs. */
const DEFAULT_REQUEST_TIMEOUT_MS = 1_500;
/**
 * Length of a partition of `revocations_by_time` (migration 3). A sweep reads the buckets from
 * its `since` to the one after now's, so a revoking node's clock may run up to a bucket ahead.
 */
export const REVOCATION_BUCKET_MS = 600_000;
/** Cassandra refuses TTLs above 20 years. */
const MAX_TTL_SECONDS = 630_720_000;
const IDEMPOTENT: cassandra.QueryOptions = { isIdempotent: true };

/** The Store port on Cassandra; open it with `CassandraStore.connect`, release it with `close()`. */
export class CassandraStore implements Store {
  readonly #messages: MessageTables;
  readonly #cql: StoreStatements;
  readonly #outage: OutageLog;
  #closed = false;

  private constructor(
    private readonly client: cassandra.Client,
    ks: string,
    logger: Logger,
  ) {
    this.#messages = new MessageTables(this.#execute, ks);
    this.#cql = storeStatements(ks);
    this.#outage = new OutageLog(logger);
  }

  /** Connects, creates the keyspace and applies pending migrations; the store is then ready. */
  static async connect(options: CassandraStoreOptions, logger: Logger): Promise<CassandraStore> {
    const ks = checkKeyspaceName(options.keyspace);
    const consistency = CONSISTENCIES[options.consistency];
    if (consistency === undefined) throw new Error(`unknown Cassandra consistency ${JSON.stringify(options.consistency)}`);
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const client = new Client(clientOptions({ ...options, consistency, requestTimeoutMs }));
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
    await this.#run("create room", () =>
      this.client.batch(
        [
          { query: this.#cql.insertRoom, params: values },
          { query: this.#cql.listRoom, params: values },
        ],
        { prepare: true, logged: true, isIdempotent: true },
      ),
    );
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
    await this.#run("append message", () =>
      this.client.batch(
        [...this.#messages.inserts(message), { query: this.#cql.rememberKey, params: remembered }],
        { prepare: true, logged: true, isIdempotent: true },
      ),
    );
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
    await this.#run("record message", () =>
      this.client.batch(
        [...this.#messages.inserts(message), { query: this.#cql.rememberKey, params: remembered }],
        { prepare: true, logged: true, isIdempotent: true },
      ),
    );
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

  listMessageStubs(readerId: string, channel: ReadChannel, page: MessagePage): Promise<MessageStub[]> {
    return channel.kind === "room"
      ? this.#messages.roomStubs(channel.id, page)
      : this.#messages.conversationStubs(readerId, channel.withUserId, page);
  }

  /**
   * Monotonic without Paxos: one single-partition batch (atomic and isolated) inserts a row for
   * `messageId` and deletes the rows below it; the marker is the partition's newest row. A row is
   * only ever deleted by a batch that wrote a newer one, so the newest id ever written survives
   * whatever order concurrent batches land in and whatever their timestamps: the marker never
   * moves back. The answer is the newer of the marker read back and `messageId`.
   */
  async advanceReadMarker(readerId: string, channel: ReadChannel, messageId: string): Promise<string> {
    const key = markerKey(readerId, channel);
    await this.#run("mark read", () =>
      this.client.batch(
        [
          { query: this.#cql.insertMarker, params: [...key, big(messageId)] },
          { query: this.#cql.dropOlderMarkers, params: [...key, big(messageId)] },
        ],
        { prepare: true, logged: false, isIdempotent: true },
      ),
    );
    // At a consistency below quorum the read may miss this write: the answer is never below it.
    const stored = await this.findReadMarker(readerId, channel);
    return stored !== undefined && compareIds(stored, messageId) > 0 ? stored : messageId;
  }

  async findReadMarker(readerId: string, channel: ReadChannel): Promise<string | undefined> {
    const row = (await this.#execute("find read marker", this.#cql.findMarker, markerKey(readerId, channel), IDEMPOTENT)).first();
    return row ? idOf(row, "message_id") : undefined;
  }

  /**
   * Writes the revocation by token id (what every call checks) and by time (what sweeps read) in
   * one logged batch: a revocation that can be checked can also be found by the sweeps. Both rows
   * expire with the token (TTL), so neither table needs purging.
   */
  async revokeToken(tokenId: string, expiresAtMs: number): Promise<void> {
    const ttl = Math.max(1, ttlUntil(expiresAtMs));
    const revokedAtMs = Date.now();
    const bucket = Math.floor(revokedAtMs / REVOCATION_BUCKET_MS);
    await this.#run("revoke token", () =>
      this.client.batch(
        [
          { query: this.#cql.revoke, params: [tokenId, BigInt(expiresAtMs), ttl] },
          { query: this.#cql.recordRevocation, params: [bucket, BigInt(revokedAtMs), tokenId, BigInt(expiresAtMs), ttl] },
        ],
        { prepare: true, logged: true, isIdempotent: true },
      ),
    );
  }

  /** Reads each time bucket from `sinceMs`'s to the one after now's, every page of each. */
  async listRevocationsSince(sinceMs: number): Promise<Revocation[]> {
    const now = Date.now();
    const found: Revocation[] = [];
    const last = Math.floor(now / REVOCATION_BUCKET_MS) + 1;
    for (let bucket = Math.floor(sinceMs / REVOCATION_BUCKET_MS); bucket <= last; bucket++) {
      const params = [bucket, BigInt(Math.floor(sinceMs))];
      let pageState: string | undefined;
      do {
        const rs = await this.#execute("list revocations", this.#cql.revocationsSince, params, { ...IDEMPOTENT, pageState });
        for (const row of rs.rows) {
          const revocation = toRevocation(row);
          if (revocation.expiresAtMs > now) found.push(revocation);
        }
        pageState = rs.pageState ?? undefined;
      } while (pageState);
    }
    return found;
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
  readonly #execute: Execute = (operation, cql, params, options) =>
    this.#run(operation, () => this.client.execute(cql, [...params], { prepare: true, ...options }));

  /** Runs one request to Cassandra (a statement or a batch): failures to reach it become UnavailableError. */
  async #run<T>(operation: string, request: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await request();
    } catch (error) {
      const mapped = toStoreError(error, operation);
      if (mapped !== error) this.#outage.failed(error, operation);
      throw mapped;
    }
    this.#outage.succeeded();
    return result;
  }
}

/** The partition key of read_markers: user, channel kind, channel id (the room, or the other user). */
function markerKey(readerId: string, channel: ReadChannel): [bigint, string, bigint] {
  return [big(readerId), channel.kind, big(channel.kind === "room" ? channel.id : channel.withUserId)];
}

/** Whole seconds from now until `expiresAtMs` (rounded up, capped at Cassandra's maximum TTL). */
function ttlUntil(expiresAtMs: number): number {
  return Math.min(MAX_TTL_SECONDS, Math.ceil((expiresAtMs - Date.now()) / 1000));
}
