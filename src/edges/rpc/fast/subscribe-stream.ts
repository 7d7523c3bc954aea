/**
 * The subscribe fast path: serves SubscribeRoom and SubscribeDirectMessages streams (gRPC,
 * gRPC-Web, Connect) directly on the Node response, as the browser edge serves SSE and
 * WebSocket streams, instead of through connect-node's per-stream async-iterable pipeline and
 * interceptors — the same checks in effect (rate limits, Authorization header, per-user limit,
 * protovalidate), the same subscription, the same bytes on the wire. It only serves what it is
 * sure about: until the first response byte, any failure (malformed body, decoding, auth,
 * limits, validation, unknown room…) hands the request to connect-node (connect-handler.ts,
 * behind its request check), which answers it exactly as it would have without this path.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Logger } from "../../../observability/logger.js";
import type { Metrics } from "../../../observability/metrics.js";
import { clientAddress } from "../../admission/client-address.js";
import type { AnyResponse } from "../../http/respond.js";
import type { OpenStream, StreamCaller, StreamOpener } from "../../streams/stream-open.js";
import type { AdmissionDecision } from "../../admission/admission.js";
import { bearerToken } from "../../../auth/authenticate.js";
import type { MessageEncodings } from "../../streams/message-encodings.js";
import { readBody, singleEnvelope } from "../request-body.js";
import type { RpcFallback } from "../connect-handler.js";
import { serveRpcStream } from "./serve-rpc-stream.js";
import { decodeSubscribe } from "./subscribe-decoding.js";
import { type FastStreamRequest, matchFastStream } from "../wire-protocol.js";

/** What the fast path needs: the stream opener, limits, observers, and where to hand requests back. */
export interface SubscribeStreamDeps {
  readonly opener: StreamOpener;
  readonly encodings: MessageEncodings;
  readonly fallback: RpcFallback;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Aborts (reason: UnavailableError) when the node drains: open streams end with it; new ones go to connect-node, which refuses them. */
  readonly drainSignal: AbortSignal;
  readonly maxBodyBytes: number;
  readonly sendBufferBytes: number;
  readonly slowClientMs: number;
  readonly trustedProxies: readonly string[];
}

/**
 * Returns true when it took the request (it then answers it, itself or through connect-node);
 * false when the request is not a subscribe stream it serves and must go elsewhere untouched.
 */
export type FastPath = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => boolean;

export function createSubscribeStreamPath(deps: SubscribeStreamDeps): FastPath {
  const options = { metrics: deps.metrics, logger: deps.logger, sendBufferBytes: deps.sendBufferBytes, slowClientMs: deps.slowClientMs, encodings: deps.encodings };

  async function serve(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, request: FastStreamRequest): Promise<void> {
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const body = await readBody(req, deps.maxBodyBytes);
    let stream: OpenStream;
    // Once admission has decided, connect-node applies the decision rather than charging again.
    let decision: AdmissionDecision | undefined;
    try {
      const payload = singleEnvelope(body);
      if (!payload) throw new Error("not a single uncompressed envelope");
      const intent = decodeSubscribe(request, payload, deps.opener);
      const ip = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], deps.trustedProxies);
      const authorization = req.headers.authorization;
      let caller: StreamCaller;
      try {
        caller = await deps.opener.authenticateHeader(request.procedure, typeof authorization === "string" ? authorization : undefined, ip);
      } catch (refused) {
        decision = { refused };
        throw refused;
      }
      decision = { admitted: { caller: caller.claims, token: bearerTokenOf(caller), release: () => undefined } };
      stream = await deps.opener.open(caller, intent.target, intent.since, AbortSignal.any([gone.signal, deps.drainSignal]));
    } catch {
      // Nothing is sent yet: connect-node answers with today's error, in the request's protocol.
      deps.fallback(req, res, request.procedure, body, decision);
      return;
    }
    // HTTP/2 compat responses offer HTTP/1.1's API (see respond.ts).
    await serveRpcStream(res as unknown as AnyResponse, stream, request, options);
  }

  return (req, res) => {
    const request = matchFastStream(req);
    if (!request || deps.drainSignal.aborted) return false;
    serve(req, res, request).catch((error: unknown) => {
      // Reading the body failed (the client went away before the stream began), or the handover did.
      deps.logger.debug({ err: error, procedure: request.procedure }, "rpc stream ended before it began");
      if (!res.headersSent) (res as ServerResponse).destroy();
    });
    return true;
  };
}

/** The bearer token of a caller admitted by its Authorization header. */
function bearerTokenOf(caller: StreamCaller): string {
  return bearerToken(caller.credentials.authorization);
}
