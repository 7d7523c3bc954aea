/** chat.v1.MessageService: thin, all logic in services/messages and realtime/subscription. */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { MessageService } from "../../../gen/chat/v1/message_pb.js";
import { requireUser } from "../../auth/auth-context.js";
import type { Messages } from "../../services/messages.js";
import type { Frame } from "../../realtime/stream-contract.js";
import type { StreamSessions } from "../../realtime/stream-sessions.js";
import { type FrameInit, frameToProto, messageToProto, type RoomFrameInit, readStateToProto, roomFrameToProto } from "./to-proto.js";
import { type OpenFrames, sessionStream } from "./session-stream.js";

/**
 * `draining` aborts when the node starts to stop, its reason an UnavailableError: open streams end
 * with it (the subscription throws it) and new ones are refused with it, so clients reconnect elsewhere.
 */
export function messageHandlers(messages: Messages, sessions: StreamSessions, draining: AbortSignal): ServiceImpl<typeof MessageService> {
  const stream = <FrameInit>(ctx: HandlerContext, open: OpenFrames, toProto: (frame: Frame) => FrameInit) => sessionStream(sessions, draining, ctx, open, toProto);

  return {
    async postMessage(req, ctx) {
      return { message: messageToProto(await messages.post(requireUser(ctx), req.roomId, req.text, req.clientMessageId)) };
    },
    async listMessages(req) {
      const page = { limit: req.pageSize, before: req.before, after: req.after };
      return { messages: (await messages.listRoom(req.roomId, page)).map(messageToProto) };
    },
    subscribeRoom(req, ctx) {
      return stream(ctx, (signal) => messages.subscribeRoom(requireUser(ctx), req.roomId, { since: req.since, presence: req.presence }, signal), roomFrame);
    },
    async sendDirectMessage(req, ctx) {
      const to = req.recipient.case === "recipientUserId" ? { userId: req.recipient.value } : { username: req.recipient.value ?? "" };
      return { message: messageToProto(await messages.send(requireUser(ctx), to, req.text, req.clientMessageId)) };
    },
    async listDirectMessages(req, ctx) {
      const caller = requireUser(ctx);
      const page = { limit: req.pageSize, before: req.before, after: req.after };
      const listed = await messages.listDirect(caller, page, req.withUserId);
      const states = await messages.reads.directStates(caller.userId, listed, req.withUserId);
      return { messages: listed.map(messageToProto), readStates: states.map(readStateToProto) };
    },
    subscribeDirectMessages(req, ctx) {
      const caller = requireUser(ctx);
      return stream(ctx, (signal) => messages.subscribeDirect(caller, req.since, signal), directFrame);
    },
    async setTyping(req, ctx) {
      await messages.typing.inRoom(requireUser(ctx), req.roomId, req.stopped);
      return {};
    },
    async setDirectTyping(req, ctx) {
      await messages.typing.inConversation(requireUser(ctx), req.withUserId, req.stopped);
      return {};
    },
    async markRoomRead(req, ctx) {
      return { readState: readStateToProto(await messages.reads.markRoom(requireUser(ctx).userId, req.roomId, req.messageId)) };
    },
    async markDirectMessagesRead(req, ctx) {
      return { readState: readStateToProto(await messages.reads.markDirect(requireUser(ctx).userId, req.withUserId, req.messageId)) };
    },
  };
}

/** A direct-message stream's frame. Presence frames go to room streams only (the hub addresses them to a room's watchers), and room-list frames to WatchRooms, so one here is a bug. */
function directFrame(frame: Frame): FrameInit {
  if (frame.kind === "presence" || frame.kind === "room") throw new Error(`a ${frame.kind} frame reached a direct-message stream`);
  return frameToProto(frame);
}

/** A room stream's frame. Read frames go to direct-message streams only (the hub addresses them to a user), so one here is a bug. */
function roomFrame(frame: Frame): RoomFrameInit {
  if (frame.kind === "read" || frame.kind === "room") throw new Error(`a ${frame.kind} frame reached a room stream`);
  return roomFrameToProto(frame);
}
