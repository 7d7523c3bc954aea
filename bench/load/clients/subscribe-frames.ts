/**
 * What a load client needs from a subscribe stream, read straight off the protobuf wire: which
 * case of the frame oneof a SubscribeRoomResponse / SubscribeDirectMessagesResponse holds, and
 * for a message the bytes of its text (where the bench marker is). Only the fields on the way
 * are walked; nothing is decoded into objects and nothing is allocated. Field numbers are
 * those of proto/chat/v1/message.proto (frame: message = 1, ready = 2, heartbeat = 3, gap = 4)
 * and types.proto (Message.text = 5).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  MessageService,
  SubscribeDirectMessagesRequestSchema,
  SubscribeRoomRequestSchema,
} from "../../../gen/chat/v1/message_pb.js";
import type { LoadUser } from "../protocol.js";
import type { ChannelKind } from "./client.js";
import { envelope } from "./envelopes.js";

export const FRAME_MESSAGE = 1;
export const FRAME_READY = 2;
export const FRAME_HEARTBEAT = 3;
export const FRAME_GAP = 4;
export const FRAME_TYPING = 6;
export const FRAME_PRESENCE = 7;
/** No known case set (an empty or unknown frame); FRAME_MALFORMED: the bytes are not protobuf. */
export const FRAME_NONE = 0;
export const FRAME_MALFORMED = -1;

const MESSAGE_TEXT = 5;
const TYPING_UNTIL = 4;
const TIMESTAMP_SECONDS = 1;
const TIMESTAMP_NANOS = 2;
/** The frame cases readFrame looks into (5 is `read` on direct-message streams, skipped). */
const KNOWN_CASES = new Set([FRAME_MESSAGE, FRAME_READY, FRAME_HEARTBEAT, FRAME_GAP, FRAME_TYPING, FRAME_PRESENCE]);

/** Where the text of a message frame lies, set by readFrame (reused, never allocated anew). */
export interface TextRange {
  start: number;
  end: number;
  /** For FRAME_TYPING: Typing.until in ms since the epoch (0 when absent); set by readFrame. */
  untilMs?: number;
}

/** The walk's cursor; module state, as readFrame never re-enters. */
let pos = 0;

function varint(bytes: Buffer, end: number): number {
  let value = 0;
  let shift = 0;
  while (pos < end) {
    const b = bytes[pos++]!;
    if (shift < 28) value |= (b & 0x7f) << shift;
    else value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return value;
    shift += 7;
    if (shift > 63) break;
  }
  pos = -1;
  return 0;
}

/** Skips a field of `wireType` after its tag; false when it runs past `end`. */
function skip(bytes: Buffer, wireType: number, end: number): boolean {
  switch (wireType) {
    case 0:
      varint(bytes, end);
      return pos >= 0;
    case 1:
      pos += 8;
      return pos <= end;
    case 2: {
      const length = varint(bytes, end);
      if (pos < 0) return false;
      pos += length;
      return pos <= end;
    }
    case 5:
      pos += 4;
      return pos <= end;
    default:
      return false;
  }
}

/**
 * The case of the frame in `bytes[start, end)` (FRAME_*; the last one set wins, as in protobuf);
 * for FRAME_MESSAGE, `text` is set to the message text's bytes (empty when it has none); for
 * FRAME_TYPING, `text.untilMs` to the frame's until.
 */
export function readFrame(bytes: Buffer, start: number, end: number, text: TextRange): number {
  let kind = FRAME_NONE;
  pos = start;
  while (pos < end) {
    const tag = varint(bytes, end);
    if (pos < 0) return FRAME_MALFORMED;
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== 2 || !KNOWN_CASES.has(field)) {
      if (!skip(bytes, wireType, end)) return FRAME_MALFORMED;
      continue;
    }
    const length = varint(bytes, end);
    if (pos < 0 || pos + length > end) return FRAME_MALFORMED;
    const valueEnd = pos + length;
    kind = field;
    if (field === FRAME_MESSAGE && !readText(bytes, valueEnd, text)) return FRAME_MALFORMED;
    if (field === FRAME_TYPING && !readUntil(bytes, valueEnd, text)) return FRAME_MALFORMED;
    pos = valueEnd;
  }
  return kind;
}

/** Finds Message.text in `bytes[pos, end)`; false when the message is malformed. */
function readText(bytes: Buffer, end: number, text: TextRange): boolean {
  text.start = text.end = 0;
  while (pos < end) {
    const tag = varint(bytes, end);
    if (pos < 0) return false;
    if (tag >>> 3 === MESSAGE_TEXT && (tag & 7) === 2) {
      const length = varint(bytes, end);
      if (pos < 0 || pos + length > end) return false;
      text.start = pos;
      text.end = pos += length;
    } else if (!skip(bytes, tag & 7, end)) return false;
  }
  return true;
}

/** Finds Typing.until in `bytes[pos, end)` into `out.untilMs`; false when the frame is malformed. */
function readUntil(bytes: Buffer, end: number, out: TextRange): boolean {
  out.untilMs = 0;
  while (pos < end) {
    const tag = varint(bytes, end);
    if (pos < 0) return false;
    if (tag >>> 3 !== TYPING_UNTIL || (tag & 7) !== 2) {
      if (!skip(bytes, tag & 7, end)) return false;
      continue;
    }
    const length = varint(bytes, end);
    if (pos < 0 || pos + length > end) return false;
    const timestampEnd = pos + length;
    let seconds = 0;
    let nanos = 0;
    while (pos < timestampEnd) {
      const field = varint(bytes, timestampEnd);
      if (pos < 0) return false;
      if (field === ((TIMESTAMP_SECONDS << 3) | 0)) seconds = varint(bytes, timestampEnd);
      else if (field === ((TIMESTAMP_NANOS << 3) | 0)) nanos = varint(bytes, timestampEnd);
      else if (!skip(bytes, field & 7, timestampEnd)) return false;
      if (pos < 0) return false;
    }
    out.untilMs = seconds * 1000 + Math.floor(nanos / 1e6);
  }
  return true;
}

/**
 * The RPC that opens a channel's subscription (live only, no `since`; a room's with presence
 * frames when `presence`): its path and its request as one envelope.
 */
export function subscribeCall(user: LoadUser, channel: ChannelKind, presence: boolean): { readonly path: string; readonly body: Buffer } {
  const { subscribeRoom, subscribeDirectMessages } = MessageService.method;
  return channel === "room"
    ? {
        path: `/${MessageService.typeName}/${subscribeRoom.name}`,
        body: envelope(toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId: user.roomId ?? "", presence }))),
      }
    : {
        path: `/${MessageService.typeName}/${subscribeDirectMessages.name}`,
        body: envelope(toBinary(SubscribeDirectMessagesRequestSchema, create(SubscribeDirectMessagesRequestSchema, {}))),
      };
}
