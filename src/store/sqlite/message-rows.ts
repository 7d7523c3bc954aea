/** Reading and writing rows of the messages table (room and direct messages alike). */
import type { Database as Db, Statement } from "better-sqlite3";
import type { ChatMessage, MessagePage, MessageStub } from "../../domain/model.js";

export interface MessageRow {
  id: bigint;
  room_id: bigint | null;
  recipient_id: bigint | null;
  sender_id: bigint;
  sender_name: string;
  text: string;
  created_at_ms: bigint;
  client_message_id: string;
}

const COLUMNS = "id, room_id, recipient_id, sender_id, sender_name, text, created_at_ms, client_message_id";

export class MessageRows {
  readonly #insert: Statement;
  readonly #byId: Statement;
  /** Page queries, prepared once per distinct WHERE shape. */
  readonly #pageQueries = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    this.#insert = db.prepare(`INSERT OR IGNORE INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE id = ?`);
  }

  /** Inserts the row; false when a message with this id is stored already (nothing changes). */
  insert(m: ChatMessage): boolean {
    const room = m.channel.kind === "room" ? BigInt(m.channel.id) : null;
    const recipient = m.channel.kind === "user" ? BigInt(m.channel.id) : null;
    return this.#insert.run(BigInt(m.id), room, recipient, BigInt(m.senderId), m.senderName, m.text, m.createdAtMs, m.clientMessageId).changes > 0;
  }

  byId(id: string): ChatMessage | undefined {
    const row = this.#byId.get(BigInt(id)) as MessageRow | undefined;
    return row && toMessage(row);
  }

  /** Rows matching `where`, newest first, strictly between the page's cursors. */
  page(where: string, params: readonly bigint[], page: MessagePage): ChatMessage[] {
    return (this.#run(COLUMNS, where, params, page) as MessageRow[]).map(toMessage);
  }

  /** As page(), only each row's id and sender. */
  stubs(where: string, params: readonly bigint[], page: MessagePage): MessageStub[] {
    const rows = this.#run("id, sender_id", where, params, page) as Array<{ id: bigint; sender_id: bigint }>;
    return rows.map((row) => ({ id: String(row.id), senderId: String(row.sender_id) }));
  }

  #run(columns: string, where: string, params: readonly bigint[], page: MessagePage): unknown[] {
    const sql =
      `SELECT ${columns} FROM messages WHERE ${where} AND id < ? AND id > ? ORDER BY id DESC LIMIT ?`;
    let stmt = this.#pageQueries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#pageQueries.set(sql, stmt);
    }
    const before = page.before ? BigInt(page.before) : 1n << 63n;
    const after = page.after ? BigInt(page.after) : -1n;
    // SQLite's INTEGER is signed 64-bit: clamp the open upper bound to its max.
    const upper = before > 9223372036854775807n ? 9223372036854775807n : before;
    return stmt.all(...params, upper, after, page.limit);
  }
}

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: String(row.id),
    channel: row.room_id !== null ? { kind: "room", id: String(row.room_id) } : { kind: "user", id: String(row.recipient_id) },
    senderId: String(row.sender_id),
    senderName: row.sender_name,
    text: row.text,
    createdAtMs: Number(row.created_at_ms),
    clientMessageId: row.client_message_id,
  };
}
