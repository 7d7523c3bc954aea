/**
 * The WebSocket frame protocol: JSON text frames both ways, and the close codes. The same server
 * frames on every socket — a subscribe path's socket and the multiplexed /ws.
 *
 * Client → server (/ws only):
 *   {"type":"subscribe", "room_id":"…" | "dms":true | "rooms":true, "since"?:"…", "presence"?:true (rooms), "ref"?:"…"}
 *   {"type":"unsubscribe", "room_id":"…" | "dms":true | "rooms":true, "ref"?}
 *   {"type":"post", "room_id":"…", "text":"…", "client_message_id"?:"…", "ref"?}
 *   {"type":"dm", "to_username":"…" | "to_user_id":"…", "text":"…", "client_message_id"?, "ref"?}
 * Server → client:
 *   {"type":"ready", "room_id"|"dms", "position", "heartbeat_interval":"15s"}   {"type":"message", "message":{chat.v1.Message JSON}}
 *   {"type":"gap", "room_id"|"dms", "after", "before"}   {"type":"heartbeat", "server_time"}
 *   {"type":"read", "dms":true, "read":{chat.v1.ReadState JSON}}   (dms only: my new read state of a channel)
 *   {"type":"typing", "room_id"|"dms", "typing":{chat.v1.Typing JSON}}   (someone else typing in the room, or to me)
 *   {"type":"presence", "room_id", "presence":{chat.v1.Presence JSON}}     (who has the room open; subscribed with "presence": true)
 *   {"type":"room", "rooms":true, "room":{chat.v1.Room JSON}}   (the room list: a room created, or replayed on resume)
 * A room-list subscription ("rooms":true, RoomService.WatchRooms) names itself "rooms":true in
 * its ready, error and ack frames; its `since` and Ready position are room ids.
 *   {"type":"ack", "ref"?, "message"?|"room_id"?|"dms"?}   {"type":"error", "code", "message", "ref"?, "room_id"?|"dms"?}
 */
import type { Frame } from "../../realtime/stream-contract.js";
import { describeFailure } from "../http/http-failure.js";
import { durationJson, type MessageEncodings, readStateJson, roomJson } from "../streams/message-encodings.js";
import type { StreamTarget } from "../streams/stream-open.js";

/**
 * Close codes: 1000 normal, 1001 server stopping, 1011 server error, and 44xx mirroring HTTP.
 * Violations of the WebSocket protocol itself close with 1002 (unmasked frame, RSV bits, unknown
 * opcode, bad close code), 1007 (text that is not UTF-8) or 1009 (a frame over MAX_BODY_BYTES) —
 * the `ws` library sends those; the edge adds 1007 for JSON nested too deeply.
 */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidPayload: 1007,
  tooBig: 1009,
  internalError: 1011,
  badFrame: 4400,
  unauthenticated: 4401,
  notFound: 4404,
  tooSlow: 4408,
} as const;

/** The close code and reason (at most 123 bytes) for the error that ended a socket. */
export function closeFor(error: unknown): { code: number; reason: string } {
  const failure = describeFailure(error);
  const code =
    failure.code === "unauthenticated"
      ? CLOSE.unauthenticated
      : failure.code === "resource_exhausted"
        ? CLOSE.tooSlow
        : failure.code === "not_found"
          ? CLOSE.notFound
          : failure.status < 500
            ? CLOSE.badFrame
            : CLOSE.internalError;
  return { code, reason: truncate(failure.message, 123) };
}

/** Which stream a frame belongs to, as ready/gap/error frames name it. */
export function targetFields(target: StreamTarget): { room_id: string } | { dms: true } | { rooms: true } {
  return target.kind === "room" ? { room_id: target.roomId } : target.kind === "rooms" ? { rooms: true } : { dms: true };
}

/** The text of a subscription frame (messages from the encoding cache); undefined for heartbeats (sockets send their own). */
export function serverFrame(frame: Frame, target: StreamTarget, encodings: MessageEncodings): Buffer | string | undefined {
  switch (frame.kind) {
    case "message":
      return encodings.wsFrame(frame.message);
    case "ready":
      return JSON.stringify({ type: "ready", ...targetFields(target), position: frame.position, heartbeat_interval: durationJson(frame.heartbeatMs) });
    case "gap":
      return JSON.stringify({ type: "gap", ...targetFields(target), after: frame.after, before: frame.before });
    case "heartbeat":
      return undefined;
    case "read":
      return JSON.stringify({ type: "read", ...targetFields(target), read: readStateJson(frame.state) });
    case "typing":
      return encodings.typingWsFrame(frame);
    case "room":
      return JSON.stringify({ type: "room", rooms: true, room: roomJson(frame.room) });
    case "presence":
      return encodings.presenceWsFrame(frame);
  }
}

/** The socket-level heartbeat frame. */
export function heartbeatFrame(now = Date.now()): string {
  return JSON.stringify({ type: "heartbeat", server_time: new Date(now).toISOString() });
}

/** An error frame for one request or subscription; the socket stays open. */
export function errorFrame(error: unknown, context: Readonly<Record<string, unknown>> = {}): string {
  const failure = describeFailure(error);
  const retry = failure.headers["retry-after"];
  return JSON.stringify({
    type: "error",
    code: failure.code,
    message: failure.message,
    ...context,
    ...(retry ? { retry_after_seconds: Number(retry) } : {}),
  });
}

function truncate(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
