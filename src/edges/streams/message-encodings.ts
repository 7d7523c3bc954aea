/**
 * The one cache of a message's wire encodings, for every streaming transport. A message fans out
 * to many streams as the same ChatMessage object (realtime/hub.ts), so each of its encodings is
 * computed once per format and kept on the object — one WeakMap entry per message holding a slot
 * per format (they go when the message does) — not once per subscriber.
 *
 * - JSON (SSE, WebSocket): proto JSON of chat.v1.Message exactly as the REST routes send it
 *   (lowerCamel names, RFC 3339 times, default values present), inside the SSE event or the
 *   WebSocket text frame.
 * - RPC (the subscribe fast path): the frame as the enveloped message of a SubscribeRoom /
 *   SubscribeDirectMessages response — byte for byte what connect-node sends for it (same
 *   conversion, to-proto.ts; same serialisation options). Both responses share the wire shape
 *   oneof frame {message = 1, ready = 2, heartbeat = 3, gap = 4}; SubscribeDirectMessagesResponse
 *   adds read = 5, which only direct-message streams carry. So every frame is encoded as a
 *   SubscribeDirectMessagesResponse: the same bytes as a SubscribeRoomResponse for the shared cases.
 *   SubscribeRoomResponse reserves 5 and adds typing = 6, the same number as in
 *   SubscribeDirectMessagesResponse, so a typing frame has the same bytes on both streams too.
 * - Read frames (a user's new read state, to that user's few streams) are not cached: the proto
 *   JSON of the ReadState (`readStateJson`, the REST shape of the mark routes' answer) inside the
 *   SSE event or the WebSocket frame, the envelope per stream for RPC.
 * - Typing frames fan out to a whole room like messages, as one shared TypingFrame object
 *   (realtime/hub.ts), so they are cached the same way, keyed by that object: SSE `event: typing`
 *   (no `id:`), WebSocket {"type":"typing", "room_id"|"dms", "typing":{chat.v1.Typing JSON}}, RPC
 *   envelopes. Not counted in the message-encoding gauges.
 * - Presence frames (presence.ts) fan out to a room's watchers the same way and are cached the
 *   same way: SSE `event: presence`, WebSocket {"type":"presence","room_id","presence":{chat.v1.Presence
 *   JSON}}, RPC envelopes of SubscribeRoomResponse (field 7, which the direct-message response reserves).
 *
 * One instance per edges (edges.ts): its counters feed that node's gauges, never another's.
 */
import { create, type JsonValue, toBinary, toJson, toJsonString } from "@bufbuild/protobuf";
import { Gauge, type Registry } from "prom-client";
import { SubscribeDirectMessagesResponseSchema, SubscribeRoomResponseSchema } from "../../../gen/chat/v1/message_pb.js";
import { MessageSchema, PresenceSchema, ReadStateSchema, RoomSchema, TypingSchema } from "../../../gen/chat/v1/types_pb.js";
import type { ChatMessage, ReadState, RoomRecord } from "../../domain/model.js";
import type { Frame, PresenceFrame, TypingFrame } from "../../realtime/stream-contract.js";
import { encodeEnvelope } from "../rpc/connect-private.js";
import { frameToProto, messageToProto, presenceToProto, readStateToProto, roomFrameToProto, roomToProto, typingToProto } from "../rpc/to-proto.js";

/** Protobuf binary (gRPC, gRPC-Web, Connect+proto) or proto JSON (Connect+json). */
export type FrameFormat = "binary" | "json";

/** A message's (or typing frame's) encodings, each filled the first time a stream needs it. */
interface Slots {
  json: string | undefined;
  sse: Buffer | undefined;
  ws: Buffer | undefined;
  binary: Buffer | undefined;
  rpcJson: Buffer | undefined;
}

/** What reaches many streams as one object, and so is encoded once per format: a message, a typing or presence frame. */
type SharedItem = ChatMessage | TypingFrame | PresenceFrame;

/** Encodes each message once per format, for every stream it is delivered to. */
export class MessageEncodings {
  readonly #slots = new WeakMap<SharedItem, Slots>();
  #json = 0;
  #rpc = 0;

  /**
   * With a registry, publishes the counters as `parley_edge_message_encodings` (JSON, for SSE and
   * WebSocket) and `parley_rpc_message_encodings` (RPC envelopes, per format).
   */
  constructor(registry?: Registry) {
    if (!registry) return;
    const encodings = this;
    new Gauge({
      name: "parley_edge_message_encodings",
      help: "Messages encoded for SSE/WebSocket since start: once per message, not per subscriber",
      registers: [registry],
      collect() {
        this.set(encodings.jsonEncodings);
      },
    });
    new Gauge({
      name: "parley_rpc_message_encodings",
      help: "Messages encoded for fast-path RPC streams since start: once per message and format, not per subscriber",
      registers: [registry],
      collect() {
        this.set(encodings.rpcEncodings);
      },
    });
  }

  /** How many messages have been JSON-encoded (a fan-out to n streams counts once). */
  get jsonEncodings(): number {
    return this.#json;
  }

  /** How many message envelopes have been encoded (a fan-out to n streams counts once per format). */
  get rpcEncodings(): number {
    return this.#rpc;
  }

  /** The message as proto JSON text. */
  json(message: ChatMessage): string {
    const slots = this.#slotsOf(message);
    if (slots.json === undefined) {
      slots.json = toJsonString(MessageSchema, messageToProto(message), { alwaysEmitImplicit: true });
      this.#json++;
    }
    return slots.json;
  }

  /** The SSE event of a message: `id:` its id, `event: message`, `data:` its JSON. */
  sseEvent(message: ChatMessage): Buffer {
    const slots = this.#slotsOf(message);
    return (slots.sse ??= Buffer.from(`id: ${message.id}\nevent: message\ndata: ${this.json(message)}\n\n`));
  }

  /** The WebSocket text frame of a message: {"type":"message","message":{…}}. */
  wsFrame(message: ChatMessage): Buffer {
    const slots = this.#slotsOf(message);
    return (slots.ws ??= Buffer.from(`{"type":"message","message":${this.json(message)}}`));
  }

  /** The SSE event of a typing frame: `event: typing`, `data:` the chat.v1.Typing JSON, no `id:` (it is no position). */
  typingSseEvent(frame: TypingFrame): Buffer {
    const slots = this.#slotsOf(frame);
    return (slots.sse ??= Buffer.from(`event: typing\ndata: ${this.#typingJson(frame, slots)}\n\n`));
  }

  /**
   * The WebSocket text frame of a typing frame: {"type":"typing","room_id"|"dms",…,"typing":{…}}.
   * A typing frame reaches one channel's streams only, so its target fields are its channel's.
   */
  typingWsFrame(frame: TypingFrame): Buffer {
    const slots = this.#slotsOf(frame);
    const { channel } = frame.typing;
    const target = channel.kind === "room" ? `"room_id":${JSON.stringify(channel.id)}` : `"dms":true`;
    return (slots.ws ??= Buffer.from(`{"type":"typing",${target},"typing":${this.#typingJson(frame, slots)}}`));
  }

  /** The SSE event of a presence frame: `event: presence`, `data:` the chat.v1.Presence JSON, no `id:` (it is no position). */
  presenceSseEvent(frame: PresenceFrame): Buffer {
    const slots = this.#slotsOf(frame);
    return (slots.sse ??= Buffer.from(`event: presence\ndata: ${this.#presenceJson(frame, slots)}\n\n`));
  }

  /** The WebSocket text frame of a presence frame: {"type":"presence","room_id":…,"presence":{…}}. */
  presenceWsFrame(frame: PresenceFrame): Buffer {
    const slots = this.#slotsOf(frame);
    return (slots.ws ??= Buffer.from(`{"type":"presence","room_id":${JSON.stringify(frame.roomId)},"presence":${this.#presenceJson(frame, slots)}}`));
  }

  /** The frame as one enveloped response message (flags 0) in the given format; messages, typing and presence frames are encoded once. */
  rpcEnvelope(frame: Frame, format: FrameFormat): Buffer {
    const shared = frame.kind === "message" ? frame.message : frame.kind === "typing" || frame.kind === "presence" ? frame : undefined;
    if (shared === undefined) return encodeRpcEnvelope(frame, format);
    const slots = this.#slotsOf(shared);
    const cached = format === "binary" ? slots.binary : slots.rpcJson;
    if (cached !== undefined) return cached;
    const bytes = encodeRpcEnvelope(frame, format);
    if (format === "binary") slots.binary = bytes;
    else slots.rpcJson = bytes;
    if (frame.kind === "message") this.#rpc++;
    return bytes;
  }

  #typingJson(frame: TypingFrame, slots: Slots): string {
    return (slots.json ??= toJsonString(TypingSchema, typingToProto(frame.typing), { alwaysEmitImplicit: true }));
  }

  #presenceJson(frame: PresenceFrame, slots: Slots): string {
    return (slots.json ??= toJsonString(PresenceSchema, presenceToProto(frame), { alwaysEmitImplicit: true }));
  }

  #slotsOf(shared: SharedItem): Slots {
    let slots = this.#slots.get(shared);
    // Every slot present from the start: one object shape for every message.
    if (slots === undefined) this.#slots.set(shared, (slots = { json: undefined, sse: undefined, ws: undefined, binary: undefined, rpcJson: undefined }));
    return slots;
  }
}

/** Milliseconds as protobuf JSON writes a google.protobuf.Duration: "15s", "1.500s". */
export function durationJson(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  return millis === 0 ? `${seconds}s` : `${seconds}.${String(millis).padStart(3, "0")}s`;
}

/**
 * A read state as proto JSON (lowerCamel names, default values present: the REST answer of the
 * mark routes), for the read frames of SSE and WebSocket.
 */
export function readStateJson(state: ReadState): JsonValue {
  return toJson(ReadStateSchema, readStateToProto(state), { alwaysEmitImplicit: true });
}

/**
 * A room as proto JSON (the REST shape of GET /rooms/{id}), for the room frames of SSE and
 * WebSocket. Not cached: a room reaches the few room-list streams once.
 */
export function roomJson(room: RoomRecord): JsonValue {
  return toJson(RoomSchema, roomToProto(room), { alwaysEmitImplicit: true });
}

/**
 * A frame as an enveloped SubscribeDirectMessagesResponse — for a room stream's frames the same
 * bytes as a SubscribeRoomResponse (see the header) — uncached (Ready, heartbeats, gaps and read
 * frames are per stream; MessageEncodings caches messages and typing frames).
 */
export function encodeRpcEnvelope(frame: Frame, format: FrameFormat): Buffer {
  // The fast path serves message streams only; room-list frames go through connect-node (WatchRooms).
  if (frame.kind === "room") throw new Error("a room-list frame reached the subscribe fast path");
  let data: Uint8Array;
  if (frame.kind === "presence") {
    // Room streams only: the one frame whose field (7) the direct-message response reserves.
    const response = create(SubscribeRoomResponseSchema, { frame: roomFrameToProto(frame) });
    data = format === "binary" ? toBinary(SubscribeRoomResponseSchema, response) : Buffer.from(toJsonString(SubscribeRoomResponseSchema, response));
  } else {
    const response = create(SubscribeDirectMessagesResponseSchema, { frame: frameToProto(frame) });
    data =
      format === "binary"
        ? toBinary(SubscribeDirectMessagesResponseSchema, response)
        : Buffer.from(toJsonString(SubscribeDirectMessagesResponseSchema, response));
  }
  const envelope = encodeEnvelope(0, data);
  return Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
}
