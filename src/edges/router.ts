/**
 * The browser edge, behind connect-node's fallback: REST routes generated from the proto's
 * google.api.http rules, SSE and WebSocket streams, /metrics (unless METRICS_PORT moves it), /healthz, the
 * OpenAPI document and docs, and the web page. Business logic stays in the services: REST calls
 * go through the in-process Connect transport (same interceptors), streams through the same
 * subscription code. Also provides the CORS layer edges.ts puts in front of every route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createValidator } from "@bufbuild/protovalidate";
import type { Transport } from "@connectrpc/connect";
import { Gauge } from "prom-client";
import type { EdgeDeps } from "./edge-deps.js";
import type { RateLimiter } from "./admission/rate-limit.js";
import { createDocsHandler } from "./rest/docs-page.js";
import { buildOpenApi } from "./rest/openapi.js";
import { loadProtoComments } from "./rest/proto-comments.js";
import { buildRouteTable } from "./rest/route-table.js";
import { CHAT_SERVICES } from "./rpc/routes.js";
import { createCors, originPolicy } from "./http/cors.js";
import { messageEncodings } from "./streams/message-encodings.js";
import { requestSite, requestTarget } from "./http/request-site.js";
import { sendError, sendFailure, sendJson } from "./http/respond.js";
import { createRestHandler } from "./rest/rest-handler.js";
import { SESSION_COOKIE } from "./http/session-cookie.js";
import { createStaticFiles } from "./http/static-files.js";
import { StreamOpener } from "./streams/stream-open.js";
import { createWsEdge } from "./ws/ws-upgrade.js";
import { isMetricsRequest, sendMetrics } from "./ops/metrics-listener.js";

/** What the browser edge needs beyond the edges' deps: the in-process transport, the node's one stream opener, the shutdown signal. */
export interface HttpEdgeDeps extends EdgeDeps {
  readonly transport: Transport;
  readonly opener: StreamOpener;
  readonly shutdownSignal: AbortSignal;
}

/** The browser edge as edges.ts mounts it. */
export interface HttpEdge {
  /** Serves a request connect-node did not claim (both HTTP versions, see respond.ts). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** CORS for any request, Connect's included; true when it answered the request (a preflight). */
  cors(req: IncomingMessage, res: ServerResponse): boolean;
  /** Handles an HTTP/1.1 Upgrade request (WebSocket). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every WebSocket with 1001; SSE streams end through `shutdownSignal`. */
  close(): void;
}

const OPENAPI_PATH = "/openapi.json";
const BODY_TIMEOUT_MS = 30_000;
const SSE_RETRY_MS = 2_000;

/** Builds the browser edge once per server: route table, OpenAPI document, stream opener, WebSocket server. */
export function createHttpEdge(deps: HttpEdgeDeps): HttpEdge {
  const { config, logger, metrics, shutdownSignal } = deps;
  const table = buildRouteTable(CHAT_SERVICES);
  const openapi = buildOpenApi(table, {
    title: "Parley chat API",
    version: "1.0.0",
    description: "REST edge of Parley, generated from the chat.v1 protos. Realtime: SSE or WebSocket on the subscribe routes, or /ws.",
    cookieName: SESSION_COOKIE,
    comments: loadProtoComments(),
  });
  const docs = createDocsHandler(OPENAPI_PATH);
  const policy = originPolicy(config.corsOrigins, config.publicOrigins);
  const body = { maxBytes: config.maxBodyBytes, timeoutMs: BODY_TIMEOUT_MS };
  const opener = deps.opener;
  const streams = { metrics, logger, heartbeatMs: config.heartbeatMs, sendBufferBytes: config.streamSendBufferBytes, slowClientMs: config.slowClientMs };
  const rest = createRestHandler({ ...deps, table, policy, body, opener, sse: { ...streams, retryMs: SSE_RETRY_MS } });
  const statics = createStaticFiles(config.webDir);
  const ws = createWsEdge({ ...deps, ...streams, table, policy, opener, trustedProxies: config.trustedProxies, maxPayloadBytes: config.maxBodyBytes });
  new Gauge({
    name: "parley_edge_message_encodings",
    help: "Messages encoded for SSE/WebSocket since start: once per message, not per subscriber",
    registers: [metrics.registry],
    collect() {
      this.set(messageEncodings());
    },
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!req.url?.startsWith("/")) return sendError(res, 400, "invalid_argument", "request target must be a path");
    const url = requestTarget(req.url);
    const site = requestSite(req, config.trustedProxies);
    // With METRICS_PORT, /metrics is on its own listener only (app.ts) and is not found here.
    if (config.metrics === undefined && isMetricsRequest(req.method, req.url)) return sendMetrics(res, metrics);
    // 503 while draining: an HTTP load balancer stops sending new requests here.
    if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, shutdownSignal.aborted ? 503 : 200, { status: shutdownSignal.aborted ? "stopping" : "ok" });
    if (req.method === "GET" && url.pathname === OPENAPI_PATH) return sendJson(res, 200, openapi);
    if (docs(req, res)) return;
    if (await rest(req, res, url, site)) return;
    if (await statics(req, res, url)) return;
    sendError(res, 404, "not_found", `no route for ${req.method} ${url.pathname}`);
  }

  return {
    handle(req, res) {
      serve(req, res).catch((error: unknown) => sendFailure(res, error, logger));
    },
    cors: createCors(policy, config.trustedProxies),
    upgrade: (req, socket, head) => ws.upgrade(req, socket, head),
    close: () => ws.close(),
  };
}
