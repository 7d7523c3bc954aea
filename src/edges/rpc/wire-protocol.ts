/**
 * Which requests the subscribe fast path takes over: a POST to SubscribeRoom or
 * SubscribeDirectMessages in gRPC (binary), gRPC-Web (binary) or Connect streaming (binary or
 * JSON), uncompressed and without a deadline. Everything else — other procedures, gRPC-Web text,
 * gRPC JSON, compressed requests, deadlines — stays with connect-node, which serves it as before.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { parseConnectContentType as parseConnectType, parseGrpcContentType as parseGrpcType, parseGrpcWebContentType as parseGrpcWebType } from "./connect-private.js";
import { MessageService } from "../../../gen/chat/v1/message_pb.js";

/** The three streaming wire protocols connect-node serves. */
export type WireProtocol = "grpc" | "grpc-web" | "connect";

/** A subscribe request the fast path can serve, as recognised from its headers alone. */
export interface FastStreamRequest {
  /** "/chat.v1.MessageService/SubscribeRoom" or ".../SubscribeDirectMessages". */
  readonly procedure: string;
  readonly method: DescMethod;
  /** Room or direct-message subscription. */
  readonly kind: "room" | "direct";
  readonly protocol: WireProtocol;
  /** Protobuf binary, or proto JSON (Connect only). */
  readonly binary: boolean;
}

const METHODS = new Map<string, { readonly method: DescMethod; readonly kind: "room" | "direct" }>(
  [
    { method: MessageService.method.subscribeRoom, kind: "room" as const },
    { method: MessageService.method.subscribeDirectMessages, kind: "direct" as const },
  ].map((entry) => [`/${MessageService.typeName}/${entry.method.name}`, entry]),
);

/** The procedures the fast path serves. */
export const FAST_PATH_PROCEDURES: readonly string[] = [...METHODS.keys()];

/** Request headers that, when present, leave the request to connect-node. */
const DEADLINE_HEADERS = ["grpc-timeout", "connect-timeout-ms"];
const ENCODING_HEADERS = ["grpc-encoding", "connect-content-encoding"];

/** The headers of a request, as node:http and node:http2 compat objects both expose them. */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Recognises a request the fast path serves; undefined for anything connect-node must handle. */
export function matchFastStream(req: RequestHead): FastStreamRequest | undefined {
  if (req.method !== "POST" || req.url === undefined) return undefined;
  const path = req.url.split("?", 1)[0]!;
  const target = METHODS.get(path);
  if (!target) return undefined;
  const headers = req.headers;
  if (DEADLINE_HEADERS.some((name) => headers[name] !== undefined)) return undefined;
  if (ENCODING_HEADERS.some((name) => headers[name] !== undefined && headers[name] !== "identity")) return undefined;
  const wire = wireFormat(headers["content-type"]);
  if (!wire) return undefined;
  return { procedure: path, method: target.method, kind: target.kind, ...wire };
}

function wireFormat(contentType: string | string[] | undefined): { protocol: WireProtocol; binary: boolean } | undefined {
  if (typeof contentType !== "string") return undefined;
  const grpc = parseGrpcType(contentType);
  if (grpc) return grpc.binary ? { protocol: "grpc", binary: true } : undefined;
  const grpcWeb = parseGrpcWebType(contentType);
  if (grpcWeb) return grpcWeb.binary && !grpcWeb.text ? { protocol: "grpc-web", binary: true } : undefined;
  const connect = parseConnectType(contentType);
  if (connect?.stream) return { protocol: "connect", binary: connect.binary };
  return undefined;
}
