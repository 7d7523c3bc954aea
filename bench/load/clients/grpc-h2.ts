/**
 * The pieces both lean gRPC clients (grpc-poster.ts, grpc-subscriber.ts) speak on node:http2:
 * one h2c session (prior knowledge) leaving from a source address, a call's request headers,
 * and the grpc-status / grpc-message a response carries in its headers or trailers.
 */
import { connect as netConnect } from "node:net";
import { connect as h2Connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { Target } from "../protocol.js";

/** An h2c session to `target` from `localAddress`; its calls report failures, the session does not. */
export function openH2c(target: Target, localAddress: string): ClientHttp2Session {
  const session = h2Connect(`http://${target.host}:${target.port}`, {
    createConnection: () => netConnect({ host: target.host, port: target.port, localAddress, noDelay: true }),
  });
  session.on("error", () => {}); // each call reports the failure as its own
  return session;
}

/** The request headers of a gRPC call to `path` with a bearer token (binary protobuf, no compression). */
export function grpcRequestHeaders(path: string, token: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    [constants.HTTP2_HEADER_METHOD]: "POST",
    [constants.HTTP2_HEADER_PATH]: path,
    "content-type": "application/grpc+proto",
    te: "trailers",
    authorization: `Bearer ${token}`,
    ...extra,
  };
}

/** The gRPC status in response headers or trailers, with its message decoded; undefined when absent. */
export function grpcStatusOf(headers: IncomingHttpHeaders): { readonly status: string; readonly message: string } | undefined {
  const status = headers["grpc-status"];
  if (typeof status !== "string") return undefined;
  const message = headers["grpc-message"];
  return { status, message: typeof message === "string" ? decodeURIComponent(message) : "" };
}
