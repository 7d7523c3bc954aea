/**
 * The wire form of a record on the Kafka log: one compact JSON object per record, tagged with a
 * format version so nodes of different releases can share topics during a rolling upgrade.
 *
 *   {"v":2,"t":"m","ck":"room"|"user","c":"…","s":"…","sn":"…","x":"…","cm":"…","n":"…"}
 *   {"v":2,"t":"r","tk":"…","exp":1700000000000}
 *   {"v":2,"t":"rd","u":"…","ck":"room"|"direct","c":"…","lr":"…","uc":3,"mu":false}
 *   {"v":2,"t":"ty","ck":"room"|"user","c":"…","s":"…","sn":"…","un":1700000006000,"st":false}
 *   {"v":2,"t":"rc","id":"…","nm":"…","by":"…","at":1700000000000}
 *   {"v":2,"t":"pr","o":"…","q":7,"rs":false,"pa":false,"a":false,"g":false,"rm":[{"r":"…","j":[["id","name"]],"l":["id"]}]}
 *
 * A message record carries no id and no time: both come from its place in the log
 * (log-sequence.ts). `n` is a nonce that lets the node that appended the record recognise it
 * when it reads it back.
 *
 * A read record (`rd`: user `u`'s new read state of channel `c`) travels on the control topic,
 * never on a message topic, so it takes no part in naming messages. A node of the release before
 * it does not know `t: "rd"` and skips such records as unreadable (logging a warning each), which
 * during a rolling upgrade costs only the read frames of that node's streams.
 *
 * A typing record (`ty`: user `s`, named `sn`, typing in channel `c` until `un`, or stopped `st`)
 * travels the same way, with the same cost during an upgrade (typing frames only).
 *
 * A room record (`rc`: room `id` named `nm`, created by `by` at `at`, already stored) travels the
 * same way too: during an upgrade, the older nodes' room-list streams miss the live room, which
 * their clients get back on resume from the store.
 *
 * A presence record (`pr`: origin `o`'s report number `q` — a reset `rs` perhaps in parts `pa`,
 * an ask `a`, a goodbye `g` — with the joins `j` and leaves `l` of each room `r`) travels the same
 * way, keyed by its origin so that one origin's reports stay in order; during an upgrade a node
 * of the release before skips them (presence of that node's users only).
 *
 * decodeRecord never throws: a record it does not understand (newer version, corrupt bytes)
 * yields undefined, and readers skip it — every reader alike, so ids stay the same everywhere.
 */
import type { MessageDraft } from "../bus.js";
import type { PresenceMember, PresenceReport, PresenceRoomReport, ReadState, RoomRecord, Typing } from "../../domain/model.js";

/** The format version written by this release; records of another version are skipped. */
export const RECORD_FORMAT_VERSION = 2;

export type LogRecord =
  | { readonly type: "message"; readonly draft: MessageDraft; readonly nonce: string }
  | { readonly type: "token_revoked"; readonly tokenId: string; readonly expiresAtMs: number }
  | { readonly type: "read"; readonly userId: string; readonly state: ReadState }
  | { readonly type: "typing"; readonly typing: Typing }
  | { readonly type: "room_created"; readonly room: RoomRecord }
  | { readonly type: "presence"; readonly report: PresenceReport };

interface WireMessage {
  v: number;
  t: "m";
  ck: "room" | "user";
  c: string;
  s: string;
  sn: string;
  x: string;
  cm: string;
  n: string;
}

interface WireRevocation {
  v: number;
  t: "r";
  tk: string;
  exp: number;
}

interface WireRead {
  v: number;
  t: "rd";
  u: string;
  ck: "room" | "direct";
  c: string;
  lr: string;
  uc: number;
  mu: boolean;
}

interface WireTyping {
  v: number;
  t: "ty";
  ck: "room" | "user";
  c: string;
  s: string;
  sn: string;
  un: number;
  st: boolean;
}

interface WireRoom {
  v: number;
  t: "rc";
  id: string;
  nm: string;
  by: string;
  at: number;
}

interface WirePresence {
  v: number;
  t: "pr";
  o: string;
  q: number;
  rs: boolean;
  pa: boolean;
  a: boolean;
  g: boolean;
  rm: { r: string; j: [string, string][]; l: string[] }[];
}

/** Encodes a record as UTF-8 JSON; decodeRecord(encodeRecord(r)) deep-equals r. */
export function encodeRecord(record: LogRecord): Buffer {
  let wire: WireMessage | WireRevocation | WireRead | WireTyping | WireRoom | WirePresence;
  if (record.type === "message") {
    const d = record.draft;
    wire = {
      v: RECORD_FORMAT_VERSION,
      t: "m",
      ck: d.channel.kind,
      c: d.channel.id,
      s: d.senderId,
      sn: d.senderName,
      x: d.text,
      cm: d.clientMessageId,
      n: record.nonce,
    };
  } else if (record.type === "read") {
    const { channel, lastReadMessageId, unreadCount, moreUnread } = record.state;
    const [ck, c] = channel.kind === "room" ? (["room", channel.id] as const) : (["direct", channel.withUserId] as const);
    wire = { v: RECORD_FORMAT_VERSION, t: "rd", u: record.userId, ck, c, lr: lastReadMessageId, uc: unreadCount, mu: moreUnread };
  } else if (record.type === "typing") {
    const { channel, typistId, typistName, untilMs, stopped } = record.typing;
    wire = { v: RECORD_FORMAT_VERSION, t: "ty", ck: channel.kind, c: channel.id, s: typistId, sn: typistName, un: untilMs, st: stopped };
  } else if (record.type === "room_created") {
    const { id, name, createdBy, createdAtMs } = record.room;
    wire = { v: RECORD_FORMAT_VERSION, t: "rc", id, nm: name, by: createdBy, at: createdAtMs };
  } else if (record.type === "presence") {
    const { origin, seq, reset, partial, ask, gone, rooms } = record.report;
    const rm = rooms.map((room) => ({ r: room.roomId, j: room.joined.map((m): [string, string] => [m.userId, m.username]), l: [...room.left] }));
    wire = { v: RECORD_FORMAT_VERSION, t: "pr", o: origin, q: seq, rs: reset, pa: partial, a: ask, g: gone, rm };
  } else {
    wire = { v: RECORD_FORMAT_VERSION, t: "r", tk: record.tokenId, exp: record.expiresAtMs };
  }
  return Buffer.from(JSON.stringify(wire), "utf8");
}

/** Decodes a record value; undefined when it is not a well-formed record of this version. */
export function decodeRecord(value: Buffer | null): LogRecord | undefined {
  if (!value) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isRecord(raw) || raw.v !== RECORD_FORMAT_VERSION) return undefined;
  if (raw.t === "m") {
    const c = text(raw.c), s = text(raw.s), sn = text(raw.sn), x = text(raw.x), cm = text(raw.cm), n = text(raw.n);
    const { ck } = raw;
    if (c === undefined || s === undefined || sn === undefined || x === undefined || cm === undefined || n === undefined) return undefined;
    if (ck !== "room" && ck !== "user") return undefined;
    return { type: "message", draft: { channel: { kind: ck, id: c }, senderId: s, senderName: sn, text: x, clientMessageId: cm }, nonce: n };
  }
  if (raw.t === "r") {
    const { tk, exp } = raw;
    if (typeof tk !== "string" || typeof exp !== "number") return undefined;
    return { type: "token_revoked", tokenId: tk, expiresAtMs: exp };
  }
  if (raw.t === "rd") return decodeRead(raw);
  if (raw.t === "ty") return decodeTyping(raw);
  if (raw.t === "rc") return decodeRoom(raw);
  if (raw.t === "pr") return decodePresence(raw);
  return undefined;
}

function decodeRoom(raw: Record<string, unknown>): LogRecord | undefined {
  const id = text(raw.id), nm = text(raw.nm), by = text(raw.by);
  const { at } = raw;
  if (id === undefined || nm === undefined || by === undefined || typeof at !== "number") return undefined;
  return { type: "room_created", room: { id, name: nm, createdBy: by, createdAtMs: at } };
}

function decodeRead(raw: Record<string, unknown>): LogRecord | undefined {
  const u = text(raw.u), c = text(raw.c), lr = text(raw.lr);
  const { ck, uc, mu } = raw;
  if (u === undefined || c === undefined || lr === undefined || typeof uc !== "number" || typeof mu !== "boolean") return undefined;
  if (ck !== "room" && ck !== "direct") return undefined;
  const channel = ck === "room" ? ({ kind: "room", id: c } as const) : ({ kind: "direct", withUserId: c } as const);
  return { type: "read", userId: u, state: { channel, lastReadMessageId: lr, unreadCount: uc, moreUnread: mu } };
}

function decodeTyping(raw: Record<string, unknown>): LogRecord | undefined {
  const c = text(raw.c), s = text(raw.s), sn = text(raw.sn);
  const { ck, un, st } = raw;
  if (c === undefined || s === undefined || sn === undefined || typeof un !== "number" || typeof st !== "boolean") return undefined;
  if (ck !== "room" && ck !== "user") return undefined;
  return { type: "typing", typing: { channel: { kind: ck, id: c }, typistId: s, typistName: sn, untilMs: un, stopped: st } };
}

function decodePresence(raw: Record<string, unknown>): LogRecord | undefined {
  const o = text(raw.o);
  const { q, rs, pa, a, g, rm } = raw;
  if (o === undefined || typeof q !== "number" || typeof rs !== "boolean" || typeof pa !== "boolean") return undefined;
  if (typeof a !== "boolean" || typeof g !== "boolean" || !Array.isArray(rm)) return undefined;
  const rooms: PresenceRoomReport[] = [];
  for (const room of rm as unknown[]) {
    if (!isRecord(room) || text(room.r) === undefined || !Array.isArray(room.j) || !Array.isArray(room.l)) return undefined;
    const joined: PresenceMember[] = [];
    for (const pair of room.j as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") return undefined;
      joined.push({ userId: pair[0], username: pair[1] });
    }
    if (!(room.l as unknown[]).every((id) => typeof id === "string")) return undefined;
    rooms.push({ roomId: room.r as string, joined, left: room.l as string[] });
  }
  return { type: "presence", report: { origin: o, seq: q, reset: rs, partial: pa, ask: a, gone: g, rooms } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
