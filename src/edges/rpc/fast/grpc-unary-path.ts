/**
 * The gRPC unary fast path: serves unary calls in gRPC (binary, over HTTP/2) by decoding the one
 * request envelope and calling the handler through the interceptors directly (unary-calls.ts),
 * instead of through connect-node's per-call pipeline. Profiling `bench ingest` showed that
 * pipeline — async-iterable transforms, a linked AbortController and a DOMException per call,
 * header conversions — costing more main-thread time than the post itself. The same checks
 * apply (the interceptors are the same: rate limits, auth, validation, logs and metrics), the
 * handler is the same, and the reply is what connect-node writes: content-type
 * application/grpc+proto, one envelope, grpc-status (and grpc-message and details on error) in
 * the trailers.
 *
 * Like the subscribe fast path, it only takes what it is sure about: a request with compression,
 * gRPC JSON, HTTP/1.1, a malformed body or a bad timeout goes to connect-node unchanged
 * (connect-handler.ts: its request check, then connect-node), which answers it as it would
 * have without this path. Once the handler has been called, the answer is ours: a call is never
 * run twice.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import {
  encodeEnvelope,
  grpcContentTypeProto as contentTypeProto,
  parseGrpcContentType as parseContentType,
  parseGrpcTimeout as parseTimeout,
  setTrailerStatus,
} from "../connect-private.js";
import type { IncomingHttpHeaders, Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { IncomingMessage } from "node:http";
import type { Logger } from "../../../observability/logger.js";
import type { Metrics } from "../../../observability/metrics.js";
import { clientAddress, clientIpKey } from "../../admission/client-address.js";
import type { FastPath } from "./subscribe-stream.js";
import { readBody, singleEnvelope } from "../request-body.js";
import type { RpcFallback } from "../connect-handler.js";
import { headerRecord } from "./stream-end.js";
import type { UnaryCalls, UnarySpec } from "../unary-calls.js";

export interface GrpcUnaryPathDeps {
  readonly calls: UnaryCalls;
  readonly fallback: RpcFallback;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Aborts every call's handler signal when the node shuts down (as connect-node's shutdownSignal). */
  readonly shutdownSignal: AbortSignal;
  readonly maxBodyBytes: number;
  readonly trustedProxies: readonly string[];
}

/** The response header connect-node starts a gRPC binary reply with. */
const RESPONSE_HEADER = { "content-type": contentTypeProto } as const;

export function createGrpcUnaryPath(deps: GrpcUnaryPathDeps): FastPath {
  // One labelled child per procedure, so counting a call builds no label key.
  const counters = new Map<string, { inc(): void }>();
  const counterOf = (path: string) => {
    let counter = counters.get(path);
    if (!counter) counters.set(path, (counter = deps.metrics.fastUnaryCalls.labels({ procedure: path })));
    return counter;
  };

  async function serve(req: Http2ServerRequest, res: Http2ServerResponse, spec: UnarySpec, path: string): Promise<void> {
    const body = await readBody(req, deps.maxBodyBytes);
    const payload = singleEnvelope(body);
    const timeout = parseGrpcTimeout(req.headers["grpc-timeout"]);
    let input;
    try {
      if (!payload || timeout.error) throw new Error("not a request the fast path serves");
      input = fromBinary(spec.method.input, payload);
    } catch {
      // Nothing has run yet: connect-node answers with its own error, in gRPC.
      deps.fallback(req, res, path, body);
      return;
    }
    counterOf(path).inc();
    const ip = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], deps.trustedProxies);
    let reply: { header: Headers; trailer: Headers; body?: Uint8Array };
    try {
      const result = await deps.calls.invoke(spec, {
        protocolName: "grpc",
        url: `http://${req.headers[":authority"] ?? "localhost"}${path}`,
        header: requestHeaders(req.headers),
        contextValues: createContextValues().set(clientIpKey, ip),
        signal: deps.shutdownSignal,
        timeoutMs: timeout.timeoutMs,
        responseHeader: RESPONSE_HEADER,
        responseTrailer: { "grpc-status": "0" },
        input,
      });
      reply = { ...result, body: encodeEnvelope(0, toBinary(spec.method.output, result.message)) };
    } catch (reason) {
      const error = reason instanceof ConnectError ? reason : new ConnectError("internal error", Code.Internal, undefined, undefined, reason);
      reply = { header: new Headers(RESPONSE_HEADER), trailer: setTrailerStatus(new Headers(), error) };
    }
    if (res.destroyed) return; // the client left; the call ran, as it would have through connect-node
    res.writeHead(200, headerRecord(reply.header));
    res.addTrailers(headerRecord(reply.trailer));
    if (reply.body) res.end(reply.body);
    else res.end();
  }

  return (req, res) => {
    const match = matchGrpcUnary(req, deps.calls);
    if (!match) return false;
    const h2 = { req: req as Http2ServerRequest, res: res as unknown as Http2ServerResponse };
    serve(h2.req, h2.res, match.spec, match.path).catch((error: unknown) => {
      // Reading the body failed: the client went away before the call began.
      deps.logger.debug({ err: error, procedure: match.path }, "rpc call ended before it began");
      if (!h2.res.headersSent) h2.res.destroy();
    });
    return true;
  };
}

/** A unary gRPC call in binary, over HTTP/2, uncompressed; undefined leaves the request to others. */
function matchGrpcUnary(req: IncomingMessage | Http2ServerRequest, calls: UnaryCalls): { spec: UnarySpec; path: string } | undefined {
  if (req.httpVersionMajor !== 2 || req.method !== "POST" || req.url === undefined) return undefined;
  const contentType = req.headers["content-type"];
  if (typeof contentType !== "string" || !parseContentType(contentType)?.binary) return undefined;
  const encoding = req.headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") return undefined;
  const path = req.url.split("?", 1)[0]!;
  const spec = calls.byPath(path);
  return spec ? { spec, path } : undefined;
}

/**
 * The longest deadline a call may ask for: what a Node timer can wait (2^31 − 1 ms, ≈ 24.8 days).
 * A longer one would fire after 1 ms — the call failing at once with DEADLINE_EXCEEDED — so it is
 * INVALID_ARGUMENT instead, here and in connect-node (its `maxTimeoutMs`, edges.ts).
 */
export const MAX_DEADLINE_MS = 2 ** 31 - 1;

/**
 * The call's deadline from its `grpc-timeout` header, as connect-node parses it: `timeoutMs`
 * undefined when there is none, `error` (INVALID_ARGUMENT) when the value is malformed or longer
 * than MAX_DEADLINE_MS. Never throws.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): { timeoutMs?: number; error?: ConnectError } {
  return parseTimeout(single(value) ?? null, MAX_DEADLINE_MS);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request's headers for interceptors, without HTTP/2 pseudo-headers (as connect-node gives
 * them): a plain record, which the handler context turns into its one Headers object.
 */
function requestHeaders(headers: IncomingHttpHeaders): [string, string][] {
  const entries: [string, string][] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    const value = headers[name];
    if (typeof value === "string") entries.push([name, value]);
    else if (Array.isArray(value)) for (const each of value) entries.push([name, each]);
  }
  return entries;
}
