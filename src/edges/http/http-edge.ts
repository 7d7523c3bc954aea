/**
 * The browser edge, behind connect-node's fallback: REST routes generated from the proto's
 * google.api.http rules, SSE and WebSocket streams, /metrics, the OpenAPI document and docs,
 * and the web page. Business logic stays in the services: REST calls go through the in-process
 * Connect transport (same interceptors), streams through the same subscription code.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Transport } from "@connectrpc/connect";
import type { EdgeDeps } from "../edges.js";
import type { RateLimiter } from "../rate-limit.js";
import { sendError } from "./respond.js";

export interface HttpEdgeDeps extends EdgeDeps {
  readonly transport: Transport;
  readonly limiter: RateLimiter;
  readonly shutdownSignal: AbortSignal;
}

export interface HttpEdge {
  /** Serves a request connect-node did not claim (both HTTP versions, see respond.ts). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function createHttpEdge(deps: HttpEdgeDeps): HttpEdge {
  return {
    handle(req, res) {
      void (async () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        if (req.method === "GET" && url.pathname === "/metrics") {
          res.setHeader("content-type", deps.metrics.registry.contentType);
          res.end(await deps.metrics.registry.metrics());
          return;
        }
        if (req.method === "GET" && url.pathname === "/healthz") {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ status: deps.shutdownSignal.aborted ? "stopping" : "ok" }));
          return;
        }
        sendError(res, 404, "not_found", `no route for ${req.method} ${url.pathname}`);
      })().catch((error: unknown) => {
        deps.logger.error({ err: error, path: req.url }, "http edge failed");
        if (!res.headersSent) sendError(res, 500, "internal", "internal error");
        else res.end();
      });
    },
    upgrade(_req, socket) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    },
    close() {},
  };
}
