/**
 * The edges of a node — everything that faces the network, on one port — built once: the
 * listener (listener.ts) hands every request to the router (router.ts), whose one table says
 * which handler serves it: CORS, the RPC fast paths (rpc/fast/), connect-node (rpc/), ops, REST
 * (rest/), SSE (sse/), the web page; WebSocket upgrades go to ws/. Every way in admits its calls
 * through the same pipeline (admission/), and every stream is opened and pumped by streams/.
 * This file only wires them; README.md in this folder tells the story.
 */
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { createContextValues, type Transport } from "@connectrpc/connect";
import { createValidator } from "@bufbuild/protovalidate";
import type { Config } from "../config.js";
import { UnavailableError } from "../domain/errors.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { Accounts } from "../services/accounts.js";
import type { Messages } from "../services/messages.js";
import type { Rooms } from "../services/rooms.js";
import type { StreamSessions } from "../realtime/stream-sessions.js";
import type { TokenIssuer } from "../auth/tokens.js";
import type { RevocationCache } from "../auth/revocations.js";
import type { StreamTickets } from "../auth/stream-tickets.js";
import type { UserDirectory } from "../auth/user-directory.js";
import { Admission, admissionInterceptor } from "./admission/admission.js";
import { clientAddress, clientIpKey } from "./admission/client-address.js";
import { RateLimiter, type BucketsFactory } from "./admission/rate-limit.js";
import { createCors, originPolicy } from "./http/cors.js";
import { SESSION_COOKIE } from "./http/session-cookie.js";
import { createStaticFiles } from "./http/static-files.js";
import { createListener, type Listener, type UpgradeHandler } from "./listener.js";
import { HealthStatus } from "./ops/health.js";
import { createOpsRoutes, OPENAPI_PATH } from "./ops/ops-routes.js";
import { createDocsHandler } from "./rest/docs-page.js";
import { buildOpenApi } from "./rest/openapi.js";
import { loadProtoComments } from "./rest/proto-comments.js";
import { createRestHandler } from "./rest/rest-handler.js";
import { buildRouteTable, type RouteTable } from "./rest/route-table.js";
import { createConnectHandler, type ConnectHandlerOptions } from "./rpc/connect-handler.js";
import { createFastPaths, MAX_DEADLINE_MS } from "./rpc/fast/fast-path.js";
import { createInProcessTransport } from "./rpc/in-process-transport.js";
import { observeInterceptor } from "./rpc/observe-interceptor.js";
import { CHAT_SERVICES, chatInterceptors, chatRoutes } from "./rpc/routes.js";
import { UnaryCalls } from "./rpc/unary-calls.js";
import { FAST_PATH_PROCEDURES } from "./rpc/wire-protocol.js";
import { createRouter } from "./router.js";
import { createSubscribeRoutes } from "./sse/subscribe-route.js";
import { MessageEncodings } from "./streams/message-encodings.js";
import { StreamOpener } from "./streams/stream-open.js";
import { createWsEdge } from "./ws/ws-upgrade.js";

/** What the edges of a node are built from. */
export interface EdgeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly services: { readonly accounts: Accounts; readonly rooms: Rooms; readonly messages: Messages };
  readonly sessions: StreamSessions;
  readonly tokens: TokenIssuer;
  readonly revocations: RevocationCache;
  readonly tickets: StreamTickets;
  readonly users: UserDirectory;
  /** Where the rate limits' buckets are kept (a worker of several leases from its primary's). */
  readonly rateBuckets: BucketsFactory;
}

/**
 * The edges of a node, and its stop in two steps: drain() when the node is told to stop, then,
 * after the grace period, shutdown() before the listener closes.
 */
export interface Edges {
  readonly listener: Listener;
  /**
   * Starts the drain: health (gRPC Health for "" and every chat service, /healthz) reads
   * NOT_SERVING — Watch streams report it and stay open; every subscribe stream (gRPC, gRPC-Web,
   * Connect, SSE, WebSocket) ends with UNAVAILABLE "server is stopping: reconnect" (WebSocket:
   * close 1001) and new ones are refused the same way; unary calls are still answered.
   */
  drain(): void;
  /** Ends every handler still running (health watches, reflection): streams end with UNAVAILABLE. Drains first if needed. */
  shutdown(): void;
}

/** Why streams end, and are refused, while a node drains: retryable, so clients reconnect (elsewhere). */
const STOPPING = new UnavailableError("server is stopping: reconnect");
const BODY_TIMEOUT_MS = 30_000;
const SSE_RETRY_MS = 2_000;

export function createEdges(deps: EdgeDeps): Edges {
  const { config, logger, metrics } = deps;
  // Aborted at the start of the drain: streams (fast path, SSE, WebSocket, subscribe handlers) end.
  const draining = new AbortController();
  // Aborted after the grace period: connect-node's handlers (health watches, reflection) end.
  const stopping = new AbortController();
  const health = new HealthStatus();
  for (const service of CHAT_SERVICES) health.set(service.typeName, "SERVING");
  const limiter = new RateLimiter(config.rateLimit, metrics, Date.now, deps.rateBuckets);
  const routes = chatRoutes({ services: deps.services, sessions: deps.sessions, health, draining: draining.signal });
  const admission = new Admission(limiter, deps);
  const interceptors = chatInterceptors({ observe: observeInterceptor(logger, metrics), admission: admissionInterceptor(admission) });
  // Unary calls skip connect's byte pipelines on the in-process transport and the gRPC fast path.
  const calls = new UnaryCalls(interceptors);
  // The in-process transport lets the REST edge and /ws posts call the very same handlers, interceptors included.
  const transport = createInProcessTransport(routes, calls);
  // One stream opener and one encoding cache for every edge that opens streams itself (SSE, WebSocket, the RPC fast path).
  const opener = new StreamOpener({ ...deps, admission, messages: deps.services.messages, rooms: deps.services.rooms, validator: createValidator() });
  const encodings = new MessageEncodings(metrics.registry);
  const rpcOptions: ConnectHandlerOptions = {
    routes: calls.record(routes),
    interceptors,
    shutdownSignal: stopping.signal,
    readMaxBytes: config.maxBodyBytes,
    maxTimeoutMs: MAX_DEADLINE_MS,
    // connect-node's default, spelled out: the request check decompresses with the same list.
    acceptCompression: [compressionGzip, compressionBrotli],
    contextValues: (req) =>
      createContextValues().set(clientIpKey, clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], config.trustedProxies)),
  };
  // connect-node's handlers, behind the request check; the fast paths hand back what they do not serve.
  const rpc = createConnectHandler(rpcOptions, FAST_PATH_PROCEDURES, logger);
  const fastPaths = createFastPaths({
    calls,
    opener,
    encodings,
    fallback: rpc.handOver,
    metrics,
    logger,
    drainSignal: draining.signal,
    shutdownSignal: stopping.signal,
    maxBodyBytes: config.maxBodyBytes,
    sendBufferBytes: config.streamSendBufferBytes,
    slowClientMs: config.slowClientMs,
    trustedProxies: config.trustedProxies,
  });
  const browser = browserEdges(deps, { transport, opener, encodings, drainSignal: draining.signal });
  const router = createRouter({ ...browser, fastPaths, rpc, trustedProxies: config.trustedProxies, logger });
  const listener = createListener(router.serve, router.upgrade, {
    limits: config.connections,
    trustedProxies: config.trustedProxies,
    onClosed: (reason) => metrics.connectionsClosed.inc({ reason }),
  });
  const drain = (): void => {
    if (draining.signal.aborted) return;
    health.shutdown();
    // WebSockets first, so they close with 1001 before their streams see the drain.
    browser.closeSockets();
    draining.abort(STOPPING);
  };
  return {
    listener,
    drain,
    shutdown() {
      drain();
      stopping.abort();
    },
  };
}

/**
 * The plain-HTTP rows' handlers: REST routes and OpenAPI from the proto's google.api.http rules,
 * SSE, WebSocket, ops, the web page, and the CORS layer in front of every row. Business logic
 * stays in the services: REST calls go through the in-process transport, streams through the opener.
 */
function browserEdges(deps: EdgeDeps, shared: { transport: Transport; opener: StreamOpener; encodings: MessageEncodings; drainSignal: AbortSignal }) {
  const { config, logger, metrics } = deps;
  const { transport, opener, encodings, drainSignal } = shared;
  const table: RouteTable = buildRouteTable(CHAT_SERVICES);
  const openapi = buildOpenApi(table, {
    title: "Parley chat API",
    version: "1.0.0",
    description: "REST edge of Parley, generated from the chat.v1 protos. Realtime: SSE or WebSocket on the subscribe routes, or /ws.",
    cookieName: SESSION_COOKIE,
    comments: loadProtoComments(),
  });
  const policy = originPolicy(config.corsOrigins, config.publicOrigins);
  const streams = { metrics, logger, encodings, heartbeatMs: config.heartbeatMs, sendBufferBytes: config.streamSendBufferBytes, slowClientMs: config.slowClientMs };
  const ws = createWsEdge({
    ...deps,
    ...streams,
    table,
    policy,
    opener,
    transport,
    shutdownSignal: drainSignal,
    trustedProxies: config.trustedProxies,
    maxPayloadBytes: config.maxBodyBytes,
  });
  return {
    cors: createCors(policy, config.trustedProxies),
    // With METRICS_PORT, /metrics is on its own listener only (app.ts) and is not found here.
    ops: createOpsRoutes({ metrics, metricsHere: config.metrics === undefined, drainSignal, openapi, docs: createDocsHandler(OPENAPI_PATH) }),
    rest: createRestHandler({ table, transport, policy, logger, body: { maxBytes: config.maxBodyBytes, timeoutMs: BODY_TIMEOUT_MS } }),
    sse: createSubscribeRoutes({ table, opener, logger, shutdownSignal: drainSignal, sse: { ...streams, retryMs: SSE_RETRY_MS } }),
    statics: createStaticFiles(config.webDir),
    upgrade: ((req, socket, head) => ws.upgrade(req, socket, head)) satisfies UpgradeHandler,
    closeSockets: () => ws.close(),
  };
}
