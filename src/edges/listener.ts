/**
 * One TCP port for every protocol: each new connection is routed by its first bytes — the
 * HTTP/2 connection preface ("PRI * HTTP/2.0") goes to the h2c server (gRPC clients speak
 * HTTP/2 with prior knowledge), anything else to the HTTP/1.1 server (Connect, gRPC-Web, REST,
 * SSE, WebSocket upgrades). Node's cleartext http2 server cannot take HTTP/1.1 by itself.
 */
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

const PREFACE = Buffer.from("PRI * HTTP/2.0");

/** A connection's error ends it (shared by every socket: no closure per connection). */
function destroyOnError(this: Socket): void {
  this.destroy();
}

export interface Listener {
  readonly tcp: Server;
  /** Stops accepting, then closes idle connections; open streams are ended by their owners. */
  close(): Promise<void>;
  /** Destroys every connection still open. */
  destroyAll(): void;
}

export function createListener(handler: RequestHandler, onUpgrade: UpgradeHandler): Listener {
  const http1 = createHttp1Server({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 }, handler);
  http1.on("upgrade", onUpgrade);
  const http2 = createHttp2Server({ settings: { maxConcurrentStreams: 1000 } }, handler);
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  http2.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  // Shared by every socket (`this` is the socket): a long-lived connection keeps no closure of its own.
  const forget = function (this: Socket): void {
    sockets.delete(this);
  };
  const tcp = createTcpServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", forget);
    socket.on("error", destroyOnError);
    socket.once("readable", () => route(socket));
  });

  function route(socket: Socket): void {
    const head = socket.read(PREFACE.length) as Buffer | null ?? (socket.read() as Buffer | null);
    if (!head) {
      // Closed before sending anything, or too few bytes yet: wait for more.
      if (!socket.destroyed) socket.once("readable", () => route(socket));
      return;
    }
    socket.unshift(head);
    const isHttp2 = head.length >= 4 && PREFACE.subarray(0, Math.min(head.length, PREFACE.length)).equals(head.subarray(0, Math.min(head.length, PREFACE.length)));
    (isHttp2 ? http2 : http1).emit("connection", socket);
  }

  return {
    tcp,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        http1.closeIdleConnections();
        // GOAWAY: clients finish what is in flight and open no new streams here.
        for (const session of sessions) session.close();
      }),
    destroyAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}
