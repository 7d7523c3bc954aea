/**
 * Subscription frames as the enveloped messages of SubscribeRoom / SubscribeDirectMessages
 * responses — byte for byte what connect-node sends for the same frame (same conversion,
 * to-proto.ts; same serialisation options). Both responses have the same wire shape (oneof
 * frame {message = 1, ready = 2, heartbeat = 3, gap = 4}), so one encoding serves both. A message
 * fans out to many streams as one ChatMessage object (realtime/hub.ts): its envelope is encoded
 * once per format and cached on the object, not once per subscriber.
 */
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { encodeEnvelope } from "../connect-private.js";
import { SubscribeRoomResponseSchema } from "../../../../gen/chat/v1/message_pb.js";
import type { ChatMessage } from "../../../domain/model.js";
import type { Frame } from "../../../realtime/stream-contract.js";
import { frameToProto } from "../to-proto.js";

/** Protobuf binary (gRPC, gRPC-Web, Connect+proto) or proto JSON (Connect+json). */
export type FrameFormat = "binary" | "json";

const binary = new WeakMap<ChatMessage, Buffer>();
const json = new WeakMap<ChatMessage, Buffer>();
let encodings = 0;

/** The frame as one enveloped response message (flags 0) in the given format. */
export function frameEnvelope(frame: Frame, format: FrameFormat): Buffer {
  if (frame.kind !== "message") return encode(frame, format);
  const cache = format === "binary" ? binary : json;
  let bytes = cache.get(frame.message);
  if (bytes === undefined) {
    bytes = encode(frame, format);
    cache.set(frame.message, bytes);
    encodings++;
  }
  return bytes;
}

/** How many message envelopes have been encoded since start (a fan-out to n streams counts once per format). */
export function rpcMessageEncodings(): number {
  return encodings;
}

function encode(frame: Frame, format: FrameFormat): Buffer {
  const response = create(SubscribeRoomResponseSchema, { frame: frameToProto(frame) });
  const data = format === "binary" ? toBinary(SubscribeRoomResponseSchema, response) : Buffer.from(toJsonString(SubscribeRoomResponseSchema, response));
  const envelope = encodeEnvelope(0, data);
  return Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
}
