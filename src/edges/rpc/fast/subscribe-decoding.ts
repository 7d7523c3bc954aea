/**
 * A subscribe request's single message, decoded as connect-node decodes it (protobuf binary;
 * proto JSON with unknown fields ignored, after the depth check every edge applies to client
 * JSON) and checked against the proto's rules (protovalidate), then turned into what to
 * subscribe to. Throws on anything connect-node (behind request-check.ts) would refuse.
 */
import { type DescMessage, fromBinary, fromJsonString, type MessageShape } from "@bufbuild/protobuf";
import { SubscribeDirectMessagesRequestSchema, SubscribeRoomRequestSchema } from "../../../../gen/chat/v1/message_pb.js";
import type { StreamOpener, StreamTarget } from "../../streams/stream-open.js";
import { exceedsJsonDepth, tooDeepMessage } from "../../http/client-json.js";
import type { FastStreamRequest } from "../wire-protocol.js";

/** What a valid subscribe request asks for: the target and the resume cursor ("" for "from now"). */
export interface SubscribeIntent {
  readonly target: StreamTarget;
  readonly since: string;
}

/** Decodes and validates the request message; throws on a decoding or validation error. */
export function decodeSubscribe(request: FastStreamRequest, payload: Uint8Array, opener: StreamOpener): SubscribeIntent {
  if (request.kind === "room") {
    const message = decode(SubscribeRoomRequestSchema, payload, request.binary);
    opener.validate(SubscribeRoomRequestSchema, message);
    return { target: { kind: "room", roomId: message.roomId, presence: message.presence }, since: message.since };
  }
  const message = decode(SubscribeDirectMessagesRequestSchema, payload, request.binary);
  opener.validate(SubscribeDirectMessagesRequestSchema, message);
  return { target: { kind: "direct" }, since: message.since };
}

function decode<T extends DescMessage>(schema: T, payload: Uint8Array, binary: boolean): MessageShape<T> {
  if (binary) return fromBinary(schema, payload);
  if (exceedsJsonDepth(payload)) throw new Error(tooDeepMessage("request message"));
  return fromJsonString(schema, new TextDecoder().decode(payload), { ignoreUnknownFields: true });
}
