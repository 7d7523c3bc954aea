/**
 * One TCP port for every protocol: each new connection is routed by its first bytes — the
 * HTTP/2 connection preface ("PRI * HTTP/2.0") goes to the h2c server (gRPC clients speak
 * HTTP/2 with prior knowledge), anything else to the HTTP/1.1 server (Connect, gRPC-Web, REST,
 * SSE, WebSocket upgrades). Node's cleartext http2 server cannot take HTTP/1.1 by itself.
 *
 * The listener is also where connections are bounded (DESIGN.md, Hardening): an address may hold
 * `maxPerAddress` connections (connections/address-cap.ts); a connection must send its first bytes within
 * `firstBytesMs`; HTTP/1.1 requests must complete their headers and body in time and idle
 * keep-alive connections close (Node's own checks, see below); HTTP/2 sessions and streams have
 * their deadlines in connections/h2-deadlines.ts. All of it runs on one shared sweep and shared handlers: an
 * open connection holds no timer and no closure of its own for these.
 */
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionLimits } from "../config.js";
import { AddressCap } from "./connections/address-cap.js";
import { H2Deadlines } from "./connections/h2-deadlines.js";

export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Why the listener ended a connection, session or stream (for metrics). */
export type ClosedReason = "address_cap" | "first_bytes" | "h2_settings" | "h2_idle" | "h2_request";

/** Limits, and who hears of what they closed. */
export interface ListenerOptions {
  readonly limits: ConnectionLimits;
  /** Exact peer addresses exempt from the per-address cap (TRUSTED_PROXIES). */
  readonly trustedProxies: readonly string[];
  /** Called for each connection refused or ended by a limit (not for HTTP/1.1 408s, which Node answers). */
  readonly onClosed?: (reason: ClosedReason) => void;
}

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

/** How often deadlines are checked: a quarter of the shortest, between 0.1 and 1 s. */
export function sweepInterval(limits: ConnectionLimits): number {
  const shortest = Math.min(limits.firstBytesMs, limits.headersMs, limits.requestMs, limits.h2IdleMs);
  return Math.min(1000, Math.max(100, Math.floor(shortest / 4)));
}

export function createListener(handler: RequestHandler, onUpgrade: UpgradeHandler, options: ListenerOptions): Listener {
  const { limits } = options;
  const closed = options.onClosed ?? (() => undefined);
  const sweepMs = sweepInterval(limits);
  const http1 = createHttp1Server(
    {
      keepAliveTimeout: limits.keepAliveMs,
      headersTimeout: limits.headersMs,
      requestTimeout: limits.requestMs,
      connectionsCheckingInterval: sweepMs,
    },
    handler,
  );
  // Node enforces headersTimeout and requestTimeout by sweeping a list of the server's parsers
  // every connectionsCheckingInterval — a list and a sweep it only sets up on 'listening'. This
  // server never listens (the TCP server below hands it connections), so it is told it does:
  // without it slowloris connections were held forever, and closeIdleConnections() did nothing.
  http1.emit("listening");
  http1.on("upgrade", onUpgrade);
  const http2 = createHttp2Server({ settings: { maxConcurrentStreams: 1000 } }, handler);
  const h2 = new H2Deadlines(http2, { firstBytesMs: limits.firstBytesMs, idleMs: limits.h2IdleMs, requestMs: limits.requestMs }, closed);
  const cap = new AddressCap(limits.maxPerAddress, options.trustedProxies);
  const sockets = new Set<Socket>();
  /** Connections that have not sent enough to be routed yet, and until when they may. */
  const unrouted = new Map<Socket, number>();

  // Shared by every socket (`this` is the socket): a long-lived connection keeps no closure of its own.
  const forget = function (this: Socket): void {
    sockets.delete(this);
    unrouted.delete(this);
    cap.release(this);
  };
  const onReadable = function (this: Socket): void {
    route(this);
  };
  const tcp = createTcpServer({ noDelay: true }, (socket) => {
    if (!cap.admit(socket)) {
      closed("address_cap");
      socket.destroy();
      return;
    }
    sockets.add(socket);
    unrouted.set(socket, performance.now() + limits.firstBytesMs);
    socket.on("close", forget);
    socket.on("error", destroyOnError);
    socket.on("readable", onReadable);
  });

  function route(socket: Socket): void {
    const head = (socket.read(PREFACE.length) as Buffer | null) ?? (socket.read() as Buffer | null);
    // Closed before sending anything, or too few bytes yet: wait for more (or the deadline).
    if (!head) return;
    socket.off("readable", onReadable);
    unrouted.delete(socket);
    socket.unshift(head);
    const isHttp2 = head.length >= 4 && PREFACE.subarray(0, Math.min(head.length, PREFACE.length)).equals(head.subarray(0, Math.min(head.length, PREFACE.length)));
    (isHttp2 ? http2 : http1).emit("connection", socket);
  }

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [socket, deadline] of unrouted) {
      if (deadline > now) continue;
      unrouted.delete(socket);
      closed("first_bytes");
      socket.destroy();
    }
    h2.sweep(now);
  }, sweepMs);
  sweep.unref();

  return {
    tcp,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // Closes idle keep-alive connections and stops Node's request sweep.
        http1.close();
        // GOAWAY: clients finish what is in flight and open no new streams here.
        for (const session of h2.sessions()) session.close();
      }),
    destroyAll: () => {
      clearInterval(sweep);
      h2.stop();
      for (const socket of sockets) socket.destroy();
    },
  };
}
