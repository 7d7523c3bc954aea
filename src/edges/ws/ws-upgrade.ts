/**
 * WebSocket upgrades (HTTP/1.1): the subscribe paths (`/room/{roomId}/subscribe`, `/me/subscribe`)
 * and the multiplexed `/ws`. Everything is checked before the handshake completes, so refusals
 * are plain HTTP answers with the JSON error body: the page's Origin (403 — cross-site
 * WebSocket hijacking), the path (404), rate limits (429), credentials (401; a cookie only
 * counts from a trusted origin), and for a subscribe path the request and the room (400, 404).
 *
 * Once upgraded, a socket keeps nothing of its handshake (request, headers, credentials of a
 * subscribe path): an idle subscriber is the `ws` socket, its open stream, and an entry in the
 * edge's maps — the close handler and the liveness timer are shared by every socket.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { InvalidArgumentError, UnavailableError } from "../../domain/errors.js";
import type { RouteTable } from "../rest/route-table.js";
import type { OriginPolicy } from "../http/cors.js";
import { HttpError } from "../http/http-failure.js";
import { requestSite, requestTarget } from "../http/request-site.js";
import { refuseUpgrade } from "../http/respond.js";
import type { OpenStream } from "../streams/stream-open.js";
import { SocketLiveness } from "./ws-liveness.js";
import { decodeSubscribeRequest } from "../streams/subscribe-request.js";
import { CLOSE } from "./ws-frames.js";
import { type MultiplexDeps, serveMultiplexSocket } from "./ws-multiplex.js";
import { serveStreamSocket, socketErrorListener } from "./ws-socket.js";

/** The multiplexed socket's path. */
export const MULTIPLEX_PATH = "/ws";

/** What the WebSocket edge needs beyond the /ws protocol's deps. */
export interface WsEdgeDeps extends MultiplexDeps {
  readonly table: RouteTable;
  readonly policy: OriginPolicy;
  readonly trustedProxies: readonly string[];
  /** Largest frame a client may send (larger ones close the socket with 1009). */
  readonly maxPayloadBytes: number;
}

/** The WebSocket edge as the HTTP edge mounts it. */
export interface WsEdge {
  /** Handles an HTTP/1.1 Upgrade request; answers it with 101 or an HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket with 1001 (server stopping). */
  close(): void;
}

/** Ends the socket of a failed upgrade (shared: no closure per socket). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The WebSocket edge; one `ws` server in noServer mode for every path. */
export function createWsEdge(deps: WsEdgeDeps): WsEdge {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
  const liveness = new SocketLiveness(deps.heartbeatMs);
  // Attached first to every upgraded socket: protocol violations close that socket, nothing else.
  const onSocketError = socketErrorListener(deps.logger);
  const socketDeps = { ...deps, liveness };
  /** The open stream of each subscribe path's socket, until the socket closes or the server stops. */
  const streams = new Map<WebSocket, OpenStream>();
  function closeStream(this: WebSocket): void {
    streams.get(this)?.close();
    streams.delete(this);
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (deps.shutdownSignal.aborted) throw new UnavailableError("server is stopping");
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") throw new HttpError(400, "invalid_argument", "only WebSocket upgrades are supported");
    const url = requestTarget(req.url ?? "/");
    const site = requestSite(req, deps.trustedProxies);
    const origin = req.headers.origin;
    if (origin !== undefined && !deps.policy.allows(origin, site)) {
      throw new HttpError(403, "permission_denied", `pages from ${origin} may not open WebSockets here`);
    }
    const match = url.pathname === MULTIPLEX_PATH ? undefined : deps.table.match("GET", url.pathname);
    const route = match && "route" in match && match.route.streaming ? match : undefined;
    if (url.pathname !== MULTIPLEX_PATH && route === undefined) throw new HttpError(404, "not_found", `no WebSocket endpoint at ${url.pathname}`);
    if (url.pathname === MULTIPLEX_PATH) {
      const extra = [...url.searchParams.keys()].find((k) => k !== "ticket");
      if (extra !== undefined) throw new InvalidArgumentError(`unknown query parameter ${extra}`);
    }
    const caller = await deps.opener.authenticate(req, url.searchParams, site.ip);
    if (caller.credentials.source === "cookie" && origin !== undefined && !deps.policy.trusts(origin, site)) {
      throw new HttpError(403, "permission_denied", `the session cookie is not accepted from ${origin}: use a stream ticket`);
    }
    if (route === undefined) {
      const ip = site.ip;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("error", onSocketError);
        socket.off("error", destroyOnError);
        serveMultiplexSocket(ws, caller, ip, socketDeps);
      });
      return;
    }
    const request = decodeSubscribeRequest(deps.opener, route.route, route.pathParams, url.searchParams, undefined);
    // No client signal: a client that leaves while the stream opens is seen below, and once
    // upgraded the socket's close (or the server stopping) closes the stream.
    const stream = await deps.opener.open(caller, request.target, request.since);
    if (socket.destroyed) return stream.close();
    if (deps.shutdownSignal.aborted) {
      stream.close();
      throw new UnavailableError("server is stopping");
    }
    let served = false;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", onSocketError);
      served = true;
      streams.set(ws, stream);
      ws.on("close", closeStream);
      liveness.watch(ws);
      socket.off("error", destroyOnError);
      serveStreamSocket(ws, stream, deps);
    });
    // Without verifyClient, `ws` completes a handshake synchronously, or never (it destroyed a
    // socket that is no longer writable): then nothing else will close the stream.
    if (!served) stream.close();
  }

  return {
    upgrade(req, socket, head) {
      socket.on("error", destroyOnError);
      upgrade(req, socket, head).catch((error: unknown) => refuseUpgrade(socket, error, deps.logger));
    },
    close() {
      liveness.stop();
      for (const stream of streams.values()) stream.close();
      for (const ws of liveness.sockets()) ws.close(CLOSE.goingAway, "server is stopping: reconnect");
      wss.close();
    },
  };
}
