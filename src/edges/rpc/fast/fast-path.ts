/**
 * The RPC fast paths behind one seam: the router's "rpc fast paths" row. Two paths serve what
 * connect-node would, with the same checks and the same bytes, but without its per-call pipeline:
 * - subscribe streams (SubscribeRoom, SubscribeDirectMessages in gRPC, gRPC-Web and Connect):
 *   subscribe-stream.ts;
 * - gRPC unary calls (binary, HTTP/2): grpc-unary-path.ts.
 * Each claims only what it is sure about and hands anything it cannot finish before its first
 * byte to connect-node (connect-handler.ts), which answers as it would have without them.
 */
import type { MessageEncodings } from "../../streams/message-encodings.js";
import type { StreamOpener } from "../../streams/stream-open.js";
import type { Logger } from "../../../observability/logger.js";
import type { Metrics } from "../../../observability/metrics.js";
import type { RpcFallback } from "../connect-handler.js";
import type { UnaryCalls } from "../unary-calls.js";
import { createGrpcUnaryPath } from "./grpc-unary-path.js";
import { createSubscribeStreamPath, type FastPath } from "./subscribe-stream.js";

export type { FastPath } from "./subscribe-stream.js";
export { MAX_DEADLINE_MS } from "./grpc-unary-path.js";

/** What both fast paths need. */
export interface FastPathsDeps {
  /** The interceptors' unary calls (gRPC unary). */
  readonly calls: UnaryCalls;
  /** The node's stream opener and encoding cache (subscribe streams). */
  readonly opener: StreamOpener;
  readonly encodings: MessageEncodings;
  /** connect-node's handover, for what a path takes and cannot finish. */
  readonly fallback: RpcFallback;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Aborts when the node drains: open streams end, new ones go to connect-node (which refuses them). */
  readonly drainSignal: AbortSignal;
  /** Aborts every unary handler's signal when the node shuts down (as connect-node's shutdownSignal). */
  readonly shutdownSignal: AbortSignal;
  readonly maxBodyBytes: number;
  readonly sendBufferBytes: number;
  readonly slowClientMs: number;
  readonly trustedProxies: readonly string[];
}

/**
 * Returns the claim: true when a fast path took the request (it then answers it, itself or through
 * connect-node); false, touching nothing, when neither serves it.
 */
export function createFastPaths(deps: FastPathsDeps): FastPath {
  const stream = createSubscribeStreamPath(deps);
  const unary = createGrpcUnaryPath(deps);
  return (req, res) => stream(req, res) || unary(req, res);
}
