/**
 * Encodings of subscription frames for the browser transports. A message fans out to many
 * streams as the same ChatMessage object (realtime/hub.ts), so its encodings are computed once
 * per format and cached on the object (WeakMaps: they go when the message does) — not once per
 * subscriber. Message bodies are proto JSON of chat.v1.Message exactly as the REST routes send
 * them (lowerCamel names, RFC 3339 times, default values present).
 */
import { toJsonString } from "@bufbuild/protobuf";
import { MessageSchema } from "../../../gen/chat/v1/types_pb.js";
import type { ChatMessage } from "../../domain/model.js";
import { messageToProto } from "../rpc/to-proto.js";

const json = new WeakMap<ChatMessage, string>();
const sse = new WeakMap<ChatMessage, Buffer>();
const ws = new WeakMap<ChatMessage, Buffer>();
let encodings = 0;

/** The message as proto JSON text, encoded once. */
export function messageJson(message: ChatMessage): string {
  let text = json.get(message);
  if (text === undefined) {
    text = toJsonString(MessageSchema, messageToProto(message), { alwaysEmitImplicit: true });
    json.set(message, text);
    encodings++;
  }
  return text;
}

/** The SSE event of a message: `id:` its id, `event: message`, `data:` its JSON. Encoded once. */
export function sseMessageEvent(message: ChatMessage): Buffer {
  let bytes = sse.get(message);
  if (bytes === undefined) {
    bytes = Buffer.from(`id: ${message.id}\nevent: message\ndata: ${messageJson(message)}\n\n`);
    sse.set(message, bytes);
  }
  return bytes;
}

/** The WebSocket text frame of a message: {"type":"message","message":{…}}. Encoded once. */
export function wsMessageFrame(message: ChatMessage): Buffer {
  let bytes = ws.get(message);
  if (bytes === undefined) {
    bytes = Buffer.from(`{"type":"message","message":${messageJson(message)}}`);
    ws.set(message, bytes);
  }
  return bytes;
}

/** How many messages have been JSON-encoded since start (a fan-out to n streams counts once). */
export function messageEncodings(): number {
  return encodings;
}

/** Milliseconds as protobuf JSON writes a google.protobuf.Duration: "15s", "1.500s". */
export function durationJson(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  return millis === 0 ? `${seconds}s` : `${seconds}.${String(millis).padStart(3, "0")}s`;
}
