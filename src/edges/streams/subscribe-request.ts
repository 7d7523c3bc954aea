/**
 * Turns a subscribe route's request (path, query, Last-Event-ID) into what to subscribe to,
 * through the same decoding as every REST route and the proto's validation rules — no
 * hand-written checks of room ids or cursors.
 */
import { RoomService } from "../../../gen/chat/v1/room_pb.js";
import type { RestRoute } from "../rest/route-table.js";
import { decodeRestRequest } from "../rest/request-codec.js";
import type { StreamOpener, StreamTarget } from "./stream-open.js";

/** A validated subscription request: the target and the resume cursor ("" for "from now"). */
export interface SubscribeRequest {
  readonly target: StreamTarget;
  readonly since: string;
}

/** Query parameters the edge reads itself and hides from the route's decoding. */
const EDGE_PARAMETERS = ["ticket"];

/**
 * Decodes a streaming route's request. `?since=` wins over `Last-Event-ID` (which EventSource
 * sends when it reconnects). Throws InvalidArgumentError (400) for a malformed id, an unknown
 * parameter, or a body.
 */
export function decodeSubscribeRequest(
  opener: StreamOpener,
  route: RestRoute,
  pathParams: Readonly<Record<string, string>>,
  query: URLSearchParams,
  lastEventId: string | undefined,
): SubscribeRequest {
  const params = new URLSearchParams(query);
  for (const name of EDGE_PARAMETERS) params.delete(name);
  if (!params.has("since") && lastEventId) params.set("since", lastEventId.trim());
  const message = decodeRestRequest(route, pathParams, params, undefined);
  opener.validate(route.method.input, message);
  const { roomId, since, presence } = message as { roomId?: unknown; since?: unknown; presence?: unknown };
  return {
    target:
      route.method === RoomService.method.watchRooms
        ? { kind: "rooms" }
        : typeof roomId === "string"
          ? { kind: "room", roomId, presence: presence === true }
          : { kind: "direct" },
    since: typeof since === "string" ? since : "",
  };
}
