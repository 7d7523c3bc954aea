/**
 * Serves an open subscription as a Connect, gRPC or gRPC-Web server stream, without
 * connect-node's per-stream pipeline: response headers, then each frame as a pre-encoded envelope
 * (streams/message-encodings.ts: a message is encoded once per format for all its subscribers) through the
 * shared pump, with the browser streams' backpressure (a client that does not drain its send
 * buffer in time is ended as too slow), then the protocol's end of stream. Reports like the
 * observe interceptor: open streams, RPC count and duration by procedure and code.
 */
import type { ConnectError } from "@connectrpc/connect";
import type { Metrics } from "../../../observability/metrics.js";
import type { Logger } from "../../../observability/logger.js";
import type { Frame } from "../../../realtime/stream-contract.js";
import { codeName, toConnectError } from "../../http/error-mapping.js";
import type { AnyResponse } from "../../http/respond.js";
import type { OpenStream } from "../../streams/stream-open.js";
import { pumpFrames, type SendLimits, writeBuffered } from "../../streams/stream-pump.js";
import type { MessageEncodings } from "../../streams/message-encodings.js";
import { streamEnd } from "./stream-end.js";
import type { FastStreamRequest } from "../wire-protocol.js";

/** Limits and observers of fast-path streams. */
export interface RpcStreamOptions extends SendLimits {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The node's one encoding cache: a message is enveloped once per format, whatever the fan-out. */
  readonly encodings: MessageEncodings;
}

/** The response content types connect-node answers these requests with. */
const CONTENT_TYPES = {
  grpc: "application/grpc+proto",
  "grpc-web": "application/grpc-web+proto",
  connect: "application/connect+proto",
  "connect-json": "application/connect+json",
} as const;

/**
 * Streams until the subscription ends, then ends the response with the status that ended it:
 * OK for a plain stop, UNAVAILABLE when the node drains (reconnect elsewhere), UNAUTHENTICATED
 * (signed out, expired), RESOURCE_EXHAUSTED (too slow) or INTERNAL. Never rejects.
 */
export async function serveRpcStream(res: AnyResponse, stream: OpenStream, request: FastStreamRequest, options: RpcStreamOptions): Promise<void> {
  const started = performance.now();
  const { metrics } = options;
  const format = request.binary ? "binary" : "json";
  let code = "ok";
  res.writeHead(200, { "content-type": CONTENT_TYPES[request.protocol === "connect" && !request.binary ? "connect-json" : request.protocol] });
  metrics.openStreams.inc({ transport: "rpc" });
  metrics.fastStreams.inc({ protocol: request.protocol });
  const send = (frame: Frame): boolean | Promise<boolean> => writeBuffered(res, options.encodings.rpcEnvelope(frame, format), options);
  try {
    const ended = await pumpFrames(stream, send, {
      ...options,
      transport: "rpc",
      logFields: { procedure: request.procedure, protocol: request.protocol },
    });
    const error: ConnectError | undefined = ended === undefined ? undefined : toConnectError(ended).error;
    if (error) code = codeName(error.code);
    if (res.destroyed || res.writableEnded) return;
    const end = streamEnd(request.protocol, error);
    if (end.trailers) res.addTrailers(end.trailers);
    res.end(end.body);
  } catch (error) {
    // Only a failing write lands here (pumpFrames never rejects): the client is gone, which is
    // not a fault of ours — info, without a stack.
    options.logger.info({ procedure: request.procedure, reason: error instanceof Error ? error.message : String(error) }, "rpc stream write failed: the client left");
  } finally {
    metrics.openStreams.dec({ transport: "rpc" });
    metrics.rpcs.inc({ procedure: request.procedure, code });
    metrics.rpcSeconds.observe({ procedure: request.procedure }, (performance.now() - started) / 1000);
  }
}
