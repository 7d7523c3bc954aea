/** Domain records → chat.v1 messages. The only place that knows both shapes. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Message,
  MessageSchema,
  type Presence,
  PresenceSchema,
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
import type { ChatMessage, PresenceMember, RoomRecord, Typing as TypingRecord, UserRecord } from "../../domain/model.js";
import type { Frame, PresenceFrame, ReadFrame, RoomFrame } from "../../realtime/stream-contract.js";
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

/** Users present in a room, as chat.v1.Sender (id and name). */
export function presenceMembersToProto(members: readonly PresenceMember[]): { userId: string; username: string }[] {
  return members.map((m) => ({ userId: m.userId, username: m.username }));
}

export function presenceToProto(frame: PresenceFrame): Presence {
  return create(PresenceSchema, {
    roomId: frame.roomId,
    count: frame.count,
    joined: presenceMembersToProto(frame.joined),
    left: presenceMembersToProto(frame.left),
    snapshot: frame.snapshot,
    truncated: frame.truncated,
  });
}

/** The `frame` oneof of SubscribeRoomResponse: message, ready, heartbeat, gap, typing (6; 5 is reserved), presence (7). */
export type RoomFrameInit = NonNullable<MessageInitShape<typeof SubscribeRoomResponseSchema>["frame"]>;
/**
 * The `frame` oneof of SubscribeDirectMessagesResponse: the room's cases under the same field
 * numbers but presence (7 is reserved), plus `read` (5). Every frame the two share has the same
 * bytes on both, byte for byte.
 */
export type FrameInit = NonNullable<MessageInitShape<typeof SubscribeDirectMessagesResponseSchema>["frame"]>;

/** The `frame` oneof of WatchRoomsResponse: created, ready, heartbeat. */
export type WatchFrameInit = NonNullable<MessageInitShape<typeof WatchRoomsResponseSchema>["frame"]>;

/** The frames both message streams carry. */
type SharedFrame = Exclude<Frame, ReadFrame | PresenceFrame | RoomFrame>;
type SharedFrameInit = Exclude<FrameInit, { case: "read" }>;

/** A frame of a direct-message stream (presence frames are not among them: the hub sends them to room streams only; nor room-list frames). */
export function frameToProto(frame: Exclude<Frame, PresenceFrame | RoomFrame>): FrameInit {
  return frame.kind === "read" ? { case: "read", value: readStateToProto(frame.state) } : sharedFrameToProto(frame);
}

/** A frame of a room stream (typing and presence frames included); read frames are not among them (the hub sends them to inboxes only), nor room-list frames. */
export function roomFrameToProto(frame: Exclude<Frame, ReadFrame | RoomFrame>): RoomFrameInit {
  return frame.kind === "presence" ? { case: "presence", value: presenceToProto(frame) } : sharedFrameToProto(frame);
}

/** A frame of a room-list stream (WatchRooms): Ready, heartbeats and rooms only (room-watch.ts yields nothing else). */
export function watchFrameToProto(frame: Frame): WatchFrameInit {
  switch (frame.kind) {
    case "room":
      return { case: "created", value: roomToProto(frame.room) };
    case "ready":
    case "heartbeat":
      return sharedFrameToProto(frame) as WatchFrameInit;
    default:
      throw new Error(`a ${frame.kind} frame reached a room-list stream`);
  }
}

function sharedFrameToProto(frame: SharedFrame): SharedFrameInit {
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
