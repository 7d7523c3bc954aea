/**
 * Everything that faces the network, on one port: Connect/gRPC/gRPC-Web through
 * connect-node (subscribe streams through the fast path in rpc/stream-fast-path/, gRPC unary
 * calls through rpc/grpc-unary-path.ts), and the
 * browser edge (REST, SSE, WebSocket, metrics, docs, the web page) as its fallback.
 */
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { createValidator } from "@bufbuild/protovalidate";
import type { IncomingMessage, ServerResponse } from "node:http";
import { UnavailableError } from "../domain/errors.js";
import { HealthStatus } from "./ops/health.js";
import { createListener, type Listener } from "./listener.js";
import { CHAT_SERVICES, chatInterceptors, chatRoutes } from "./rpc/routes.js";
import { observeInterceptor } from "./rpc/observe-interceptor.js";
import { createInProcessTransport } from "./rpc/in-process-transport.js";
import { UnaryCalls } from "./rpc/unary-calls.js";
import { createGrpcUnaryPath, MAX_DEADLINE_MS } from "./rpc/fast/grpc-unary-path.js";
import { RateLimiter } from "./admission/rate-limit.js";
import { Admission, admissionInterceptor } from "./admission/admission.js";
import { clientAddress, clientIpKey } from "./admission/client-address.js";
import { createContextValues } from "@connectrpc/connect";
import { createHttpEdge } from "./router.js";
import { sendError, setApiHeaders } from "./http/respond.js";
import { authorityProblem } from "./http/request-site.js";
import { StreamOpener } from "./streams/stream-open.js";
import { createFastPath } from "./rpc/fast/subscribe-stream.js";
import { createConnectHandler, type ConnectHandlerOptions } from "./rpc/connect-handler.js";
import { FAST_PATH_PROCEDURES } from "./rpc/wire-protocol.js";

import type { EdgeDeps } from "./edge-deps.js";

export type { EdgeDeps } from "./edge-deps.js";

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

export function createEdges(deps: EdgeDeps): Edges {
  // Aborted at the start of the drain: streams (fast path, SSE, WebSocket, subscribe handlers) end.
  const draining = new AbortController();
  // Aborted after the grace period: connect-node's handlers (health watches, reflection) end.
  const stopping = new AbortController();
  const health = new HealthStatus();
  for (const service of CHAT_SERVICES) health.set(service.typeName, "SERVING");
  const limiter = new RateLimiter(deps.config.rateLimit, deps.metrics, Date.now, deps.rateBuckets);
  const routes = chatRoutes({ services: deps.services, sessions: deps.sessions, health, draining: draining.signal });
  const admission = new Admission(limiter, deps);
  const interceptors = chatInterceptors({ observe: observeInterceptor(deps.logger, deps.metrics), admission: admissionInterceptor(admission) });
  // Unary calls skip connect's byte pipelines on the in-process transport and the gRPC fast path.
  const calls = new UnaryCalls(interceptors);
  // The in-process transport lets the REST edge call the very same handlers, interceptors included.
  const inProcess = createInProcessTransport(routes, calls);
  // One stream opener for every edge that opens streams itself (SSE, WebSocket, the RPC fast path).
  const opener = new StreamOpener({ ...deps, admission, messages: deps.services.messages, validator: createValidator() });
  const http = createHttpEdge({ ...deps, transport: inProcess, opener, shutdownSignal: draining.signal });
  const rpcOptions: ConnectHandlerOptions = {
    routes: calls.record(routes),
    interceptors,
    shutdownSignal: stopping.signal,
    readMaxBytes: deps.config.maxBodyBytes,
    maxTimeoutMs: MAX_DEADLINE_MS,
    // connect-node's default, spelled out: the request check decompresses with the same list.
    acceptCompression: [compressionGzip, compressionBrotli],
    contextValues: (req) =>
      createContextValues().set(
        clientIpKey,
        clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], deps.config.trustedProxies),
      ),
    // HTTP/2 compat objects offer HTTP/1.1's API; the edge is written against that (see respond.ts).
    fallback: (req, res) => http.handle(req as IncomingMessage, res as unknown as ServerResponse),
  };
  // connect-node's handlers, behind the request check; the fast paths hand back what they do not serve.
  const rpc = createConnectHandler(rpcOptions, FAST_PATH_PROCEDURES, deps.logger);
  const fallback = rpc.handOver;
  const fastPath = createFastPath({
    opener,
    fallback,
    metrics: deps.metrics,
    logger: deps.logger,
    drainSignal: draining.signal,
    maxBodyBytes: deps.config.maxBodyBytes,
    sendBufferBytes: deps.config.streamSendBufferBytes,
    slowClientMs: deps.config.slowClientMs,
    trustedProxies: deps.config.trustedProxies,
  });
  const grpcUnary = createGrpcUnaryPath({
    calls,
    fallback,
    logger: deps.logger,
    metrics: deps.metrics,
    shutdownSignal: stopping.signal,
    maxBodyBytes: deps.config.maxBodyBytes,
    trustedProxies: deps.config.trustedProxies,
  });
  // The front door of every request: the API headers, a usable authority, CORS — in front of
  // connect-node, so Connect, gRPC-Web and gRPC get them as REST does — then the fast paths,
  // then connect-node (whose fallback is the browser edge).
  const frontDoor: typeof rpc.serve = (req, res) => {
    const response = res as unknown as ServerResponse;
    setApiHeaders(response);
    const badAuthority = authorityProblem(req);
    if (badAuthority) return sendError(response, 400, "invalid_argument", badAuthority);
    if (http.cors(req as IncomingMessage, response) || fastPath(req, response) || grpcUnary(req, response)) return;
    rpc.serve(req, res);
  };
  const listener = createListener(frontDoor, (req, socket, head) => http.upgrade(req, socket, head), {
    limits: deps.config.connections,
    trustedProxies: deps.config.trustedProxies,
    onClosed: (reason) => deps.metrics.connectionsClosed.inc({ reason }),
  });
  const drain = (): void => {
    if (draining.signal.aborted) return;
    health.shutdown();
    // WebSockets first, so they close with 1001 before their streams see the drain.
    http.close();
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
