/** Domain records → chat.v1 messages. The only place that knows both shapes. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Message,
  MessageSchema,
  type ReadState,
  ReadStateSchema,
  type Room,
  RoomSchema,
  type Typing,
  TypingSchema,
  type User,
  UserSchema,
} from "../../../gen/chat/v1/types_pb.js";
import type { SubscribeDirectMessagesResponseSchema, SubscribeRoomResponseSchema } from "../../../gen/chat/v1/message_pb.js";
import type { WatchRoomsResponseSchema } from "../../../gen/chat/v1/room_pb.js";
import type { ChatMessage, RoomRecord, Typing as TypingRecord, UserRecord } from "../../domain/model.js";
import type { Frame, ReadFrame, RoomFrame } from "../../realtime/stream-contract.js";
import type { ReadState as ReadStateRecord } from "../../services/read-markers.js";

export function userToProto(user: UserRecord): User {
  return create(UserSchema, { userId: user.id, username: user.username, createdAt: timestampFromMs(user.createdAtMs) });
}

export function roomToProto(room: RoomRecord): Room {
  return create(RoomSchema, {
    roomId: room.id,
    name: room.name,
    createdBy: room.createdBy,
    createdAt: timestampFromMs(room.createdAtMs),
  });
}

export function messageToProto(m: ChatMessage): Message {
  return create(MessageSchema, {
    messageId: m.id,
    target: m.channel.kind === "room" ? { case: "roomId", value: m.channel.id } : { case: "recipientUserId", value: m.channel.id },
    sender: { userId: m.senderId, username: m.senderName },
    text: m.text,
    createdAt: timestampFromMs(m.createdAtMs),
    clientMessageId: m.clientMessageId,
  });
}

export function readStateToProto(state: ReadStateRecord): ReadState {
  const { channel } = state;
  return create(ReadStateSchema, {
    channel: channel.kind === "room" ? { case: "roomId", value: channel.id } : { case: "withUserId", value: channel.withUserId },
    lastReadMessageId: state.lastReadMessageId,
    unreadCount: state.unreadCount,
    moreUnread: state.moreUnread,
  });
}

/**
 * Someone typing, as the receiver sees it: in a room, or (direct) in my conversation with the
 * typist — the event's channel is then my inbox, so the conversation is named by the typist.
 */
export function typingToProto(typing: TypingRecord): Typing {
  return create(TypingSchema, {
    channel: typing.channel.kind === "room" ? { case: "roomId", value: typing.channel.id } : { case: "withUserId", value: typing.typistId },
    user: { userId: typing.typistId, username: typing.typistName },
    until: timestampFromMs(typing.untilMs),
    stopped: typing.stopped,
  });
}

/** The `frame` oneof of SubscribeRoomResponse: message, ready, heartbeat, gap, typing (6; 5 is reserved). */
export type RoomFrameInit = NonNullable<MessageInitShape<typeof SubscribeRoomResponseSchema>["frame"]>;
/**
 * The `frame` oneof of SubscribeDirectMessagesResponse: the room's cases under the same field
 * numbers, plus `read` (5). Every room frame is a direct-message frame on the wire, byte for byte.
 */
export type FrameInit = NonNullable<MessageInitShape<typeof SubscribeDirectMessagesResponseSchema>["frame"]>;

/** The `frame` oneof of WatchRoomsResponse: created, ready, heartbeat. */
export type WatchFrameInit = NonNullable<MessageInitShape<typeof WatchRoomsResponseSchema>["frame"]>;

/** A frame of any message stream, as the direct-message response's oneof (the superset). Room-list frames are not among them. */
export function frameToProto(frame: Frame): FrameInit {
  if (frame.kind === "room") throw new Error("a room-list frame reached a message stream");
  return frame.kind === "read" ? { case: "read", value: readStateToProto(frame.state) } : roomFrameToProto(frame);
}

/** A frame of a room-list stream (WatchRooms): Ready, heartbeats and rooms only (room-watch.ts yields nothing else). */
export function watchFrameToProto(frame: Frame): WatchFrameInit {
  switch (frame.kind) {
    case "room":
      return { case: "created", value: roomToProto(frame.room) };
    case "ready":
    case "heartbeat":
      return roomFrameToProto(frame) as WatchFrameInit;
    default:
      throw new Error(`a ${frame.kind} frame reached a room-list stream`);
  }
}

/** A frame of a room stream (typing frames included); read frames are not among them (the hub sends them to inboxes only). */
export function roomFrameToProto(frame: Exclude<Frame, ReadFrame | RoomFrame>): RoomFrameInit {
  switch (frame.kind) {
    case "message":
      return { case: "message", value: messageToProto(frame.message) };
    case "ready":
      return { case: "ready", value: { position: frame.position, heartbeatInterval: durationFromMs(frame.heartbeatMs) } };
    case "heartbeat":
      return { case: "heartbeat", value: { serverTime: timestampFromMs(frame.atMs) } };
    case "gap":
      return { case: "gap", value: { after: frame.after, before: frame.before } };
    case "typing":
      return { case: "typing", value: typingToProto(frame.typing) };
  }
}

/** A whole number of milliseconds as a google.protobuf.Duration. */
function durationFromMs(ms: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
