/**
 * The wire form of a BusEvent on Kafka: one compact JSON object per record, tagged with a format
 * version so nodes of different releases can share topics during a rolling upgrade.
 *
 *   {"v":1,"t":"m","id":"…","ck":"room"|"user","c":"…","s":"…","sn":"…","x":"…","at":1700000000000,"cm":"…"}
 *   {"v":1,"t":"r","tk":"…","exp":1700000000000}
 *
 * decodeEvent never throws: a record it does not understand (newer version, corrupt bytes) yields
 * undefined, and the consumer skips it — the store still has every message.
 */
import type { BusEvent } from "../bus.js";
import type { ChatMessage } from "../../domain/model.js";

/** The format version written by this release; records with a higher version are skipped. */
export const EVENT_FORMAT_VERSION = 1;

interface WireMessage {
  v: number;
  t: "m";
  id: string;
  ck: "room" | "user";
  c: string;
  s: string;
  sn: string;
  x: string;
  at: number;
  cm: string;
}

interface WireRevocation {
  v: number;
  t: "r";
  tk: string;
  exp: number;
}

/** Encodes an event as UTF-8 JSON; decodeEvent(encodeEvent(e)) deep-equals e. */
export function encodeEvent(event: BusEvent): Buffer {
  let wire: WireMessage | WireRevocation;
  if (event.type === "message") {
    const m = event.message;
    wire = {
      v: EVENT_FORMAT_VERSION,
      t: "m",
      id: m.id,
      ck: m.channel.kind,
      c: m.channel.id,
      s: m.senderId,
      sn: m.senderName,
      x: m.text,
      at: m.createdAtMs,
      cm: m.clientMessageId,
    };
  } else {
    wire = { v: EVENT_FORMAT_VERSION, t: "r", tk: event.tokenId, exp: event.expiresAtMs };
  }
  return Buffer.from(JSON.stringify(wire), "utf8");
}

/** Decodes a record value; undefined when it is not a well-formed event of a known version. */
export function decodeEvent(value: Buffer | null): BusEvent | undefined {
  if (!value) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isRecord(raw) || raw.v !== EVENT_FORMAT_VERSION) return undefined;
  if (raw.t === "m") {
    const id = text(raw.id), c = text(raw.c), s = text(raw.s), sn = text(raw.sn), x = text(raw.x), cm = text(raw.cm);
    const { ck, at } = raw;
    if (id === undefined || c === undefined || s === undefined || sn === undefined || x === undefined || cm === undefined) return undefined;
    if ((ck !== "room" && ck !== "user") || typeof at !== "number") return undefined;
    const message: ChatMessage = { id, channel: { kind: ck, id: c }, senderId: s, senderName: sn, text: x, createdAtMs: at, clientMessageId: cm };
    return { type: "message", message };
  }
  if (raw.t === "r") {
    const { tk, exp } = raw;
    if (typeof tk !== "string" || typeof exp !== "number") return undefined;
    return { type: "token_revoked", tokenId: tk, expiresAtMs: exp };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
