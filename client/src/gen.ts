/**
 * The generated chat.v1 code the client is built on (`gen/`, from proto/chat/v1): the one place
 * the client imports it from, so the package build compiles it into `dist/` beside the client.
 */
export { AuthService } from "../../gen/chat/v1/auth_pb.js";
export type { CreateStreamTicketResponse, SignInResponse } from "../../gen/chat/v1/auth_pb.js";
export { MessageService } from "../../gen/chat/v1/message_pb.js";
export type { SubscribeDirectMessagesResponse, SubscribeRoomResponse } from "../../gen/chat/v1/message_pb.js";
export { RoomService } from "../../gen/chat/v1/room_pb.js";
export type { GetRoomPresenceResponse, ListRoomsResponse, WatchRoomsResponse } from "../../gen/chat/v1/room_pb.js";
export type { Gap, Heartbeat, Message, Presence, ReadState, Ready, Room, Sender, Typing, User } from "../../gen/chat/v1/types_pb.js";
