/**
 * GET on a subscribe route (`/room/{roomId}/subscribe`, `/me/subscribe`, `/rooms/watch`) without an Upgrade:
 * with `Accept: text/event-stream` it is an SSE stream (status 200, as EventSource requires);
 * without, the seed's 202 Accepted — the subscription request is checked exactly as a stream's
 * (401, 400, 404 included) and answered with the current position and how to open the stream,
 * so a client that connects next with `since=position` misses nothing.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "../../observability/logger.js";
import type { RestRoute, RouteTable } from "../rest/route-table.js";
import type { RequestSite, RequestTarget } from "../http/request-site.js";
import { type AnyResponse, sendFailure, sendJson } from "../http/respond.js";
import { type SseOptions, serveSse } from "./sse.js";
import type { StreamOpener, StreamTarget } from "../streams/stream-open.js";
import { decodeSubscribeRequest } from "../streams/subscribe-request.js";
import { targetFields } from "../ws/ws-frames.js";
import { MULTIPLEX_PATH } from "../ws/ws-upgrade.js";

/** What a subscribe route needs: the stream opener, SSE options, and the server's shutdown signal. */
export interface SubscribeRouteDeps {
  readonly opener: StreamOpener;
  readonly sse: SseOptions;
  readonly shutdownSignal: AbortSignal;
}

/** The subscribe routes' handler: the route table and logger beyond a subscribe route's deps. */
export interface SubscribeRoutesDeps extends SubscribeRouteDeps {
  readonly table: RouteTable;
  readonly logger: Logger;
}

/** Serves a GET on a subscribe route (true once answered); false, touching nothing, for any other request. */
export type SubscribeRoutes = (req: IncomingMessage, res: AnyResponse, url: RequestTarget, site: RequestSite) => boolean | Promise<boolean>;

/** The router's SSE row: the streaming routes of the route table (other methods on them are REST's 405). */
export function createSubscribeRoutes(deps: SubscribeRoutesDeps): SubscribeRoutes {
  return (req, res, url, site) => {
    const match = deps.table.match(req.method ?? "GET", url.pathname);
    if ("error" in match || !match.route.streaming) return false;
    return serveSubscribeRoute(req, res, match, url, site, deps).then(
      () => true,
      (error: unknown) => {
        sendFailure(res, error, deps.logger);
        return true;
      },
    );
  };
}

/** Serves a subscribe route; throws (before anything is sent) the error to answer with. */
export async function serveSubscribeRoute(
  req: IncomingMessage,
  res: AnyResponse,
  matched: { readonly route: RestRoute; readonly pathParams: Readonly<Record<string, string>> },
  url: RequestTarget,
  site: RequestSite,
  deps: SubscribeRouteDeps,
): Promise<void> {
  const caller = await deps.opener.authenticate(req, url.searchParams, site.ip);
  const lastEventId = req.headers["last-event-id"];
  const request = decodeSubscribeRequest(deps.opener, matched.route, matched.pathParams, url.searchParams, typeof lastEventId === "string" ? lastEventId : undefined);
  const wantsSse = (req.headers.accept ?? "").toLowerCase().includes("text/event-stream");
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  const signal = wantsSse ? AbortSignal.any([gone.signal, deps.shutdownSignal]) : gone.signal;
  const stream = await deps.opener.open(caller, request.target, request.since, signal);
  if (wantsSse) return serveSse(res, stream, deps.sse);
  stream.close();
  const position = stream.ready.kind === "ready" ? stream.ready.position : request.since;
  sendJson(res, 202, accepted(site, url.pathname, request.target, position), { link: `<${url.pathname}?since=${position}>; rel="alternate"; type="text/event-stream"` });
}

/** The 202 body: where the stream is, and how to open it with each transport. */
function accepted(site: RequestSite, path: string, target: StreamTarget, position: string): Record<string, unknown> {
  const ws = `${site.scheme === "https" ? "wss" : "ws"}://${site.host}`;
  const since = `?since=${encodeURIComponent(position)}`;
  const room = targetFields(target);
  return {
    message: "Subscription accepted. Open the stream with one of these transports; since=position resumes without missing anything.",
    position,
    transports: {
      sse: { method: "GET", url: `${site.origin}${path}${since}`, headers: { Accept: "text/event-stream" } },
      websocket: { url: `${ws}${path}${since}` },
      websocketMultiplexed: { url: `${ws}${MULTIPLEX_PATH}`, send: { type: "subscribe", ...room, since: position } },
      connect: {
        procedure:
          target.kind === "room"
            ? "/chat.v1.MessageService/SubscribeRoom"
            : target.kind === "rooms"
              ? "/chat.v1.RoomService/WatchRooms"
              : "/chat.v1.MessageService/SubscribeDirectMessages",
        request: target.kind === "room" ? { roomId: target.roomId, since: position } : { since: position },
      },
    },
  };
}
