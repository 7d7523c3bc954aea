/** chat.v1.RoomService: thin, all logic in services/rooms (and the caller's read states in services/read-markers). */
import type { ServiceImpl } from "@connectrpc/connect";
import type { RoomService } from "../../../gen/chat/v1/room_pb.js";
import { requireUser } from "../../auth/auth-context.js";
import type { ReadMarkers } from "../../services/read-markers.js";
import type { Rooms } from "../../services/rooms.js";
import { presenceMembersToProto, readStateToProto, roomToProto } from "./to-proto.js";

export function roomHandlers(rooms: Rooms, reads: ReadMarkers): ServiceImpl<typeof RoomService> {
  return {
    async listRooms(req, ctx) {
      const page = await rooms.list(req.pageSize, req.pageToken);
      const states = await reads.roomStates(requireUser(ctx).userId, page.rooms.map((room) => room.id));
      return { rooms: page.rooms.map(roomToProto), nextPageToken: page.nextPageToken, readStates: states.map(readStateToProto) };
    },
    async createRoom(req, ctx) {
      return { room: roomToProto(await rooms.create(req.name, requireUser(ctx).userId)) };
    },
    async getRoom(req) {
      return { room: roomToProto(await rooms.get(req.roomId)) };
    },
    async getRoomPresence(req) {
      const { count, users } = await rooms.presenceOf(req.roomId);
      return { count, users: presenceMembersToProto(users) };
    },
  };
}
