/** chat.v1.RoomService: thin, all logic in services/rooms. */
import type { ServiceImpl } from "@connectrpc/connect";
import type { RoomService } from "../../../gen/chat/v1/room_pb.js";
import { requireUser } from "../../auth/auth-context.js";
import type { Rooms } from "../../services/rooms.js";
import { roomToProto } from "./to-proto.js";

export function roomHandlers(rooms: Rooms): ServiceImpl<typeof RoomService> {
  return {
    async listRooms(req) {
      const page = await rooms.list(req.pageSize, req.pageToken);
      return { rooms: page.rooms.map(roomToProto), nextPageToken: page.nextPageToken };
    },
    async createRoom(req, ctx) {
      return { room: roomToProto(await rooms.create(req.name, requireUser(ctx).userId)) };
    },
    async getRoom(req) {
      return { room: roomToProto(await rooms.get(req.roomId)) };
    },
  };
}
