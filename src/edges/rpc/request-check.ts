/**
 * The check of an RPC's request message before connect-node reads it — for the client mistakes
 * connect-node would answer as a server fault (INTERNAL), and for what no parser should see:
 * - an envelope with the compressed flag while the request declares no compression
 *   (grpc-encoding / connect-content-encoding absent or "identity"), or with a flag requests
 *   never carry (anything but the compressed bit);
 * - a message that is not valid protobuf (after decompression, when the request declared it);
 * - JSON nested deeper than MAX_JSON_DEPTH (client-json.ts), in every protocol that carries JSON.
 * Each is INVALID_ARGUMENT, as connect-go answers these: the client sent a malformed request.
 *
 * It applies to methods that take exactly one request message (unary and server streaming:
 * every chat.v1 method), whose whole body it sees once, as read for the fast paths
 * (request-body.ts); client and bidi streams (reflection) are not checked, their
 * bodies ending only with the call. What it cannot judge it
 * leaves to connect-node, which answers as before: a body over the size limit, framing that is
 * not one envelope (connect-node refuses it on its own), an unknown encoding, a body that does
 * not decompress. A request it passes is then decoded again by connect-node — for the requests
 * the fast paths do not serve, a second decoding of a message of at most MAX_BODY_BYTES.
 */
import { type DescMethod, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { parseConnectContentType as parseConnectType, parseGrpcContentType as parseGrpcType, parseGrpcWebContentType as parseGrpcWebType } from "./connect-private.js";
import { exceedsJsonDepth, hasLoneSurrogate, tooDeepMessage } from "../http/client-json.js";
import type { BufferedBody } from "./request-body.js";
import type { RequestHead } from "./wire-protocol.js";

/** What the check needs of the server's RPC options: the same as connect-node's. */
export interface RequestCheckOptions {
  readonly readMaxBytes: number;
  readonly acceptCompression: readonly Compression[];
}

/** How a request carries its message: enveloped or not, binary or JSON, and where it declares compression. */
interface Wire {
  readonly enveloped: boolean;
  readonly binary: boolean;
  readonly encodingHeader: string;
}

const COMPRESSED = 0b0000_0001;
const HEADER_BYTES = 5;

/**
 * The ConnectError (INVALID_ARGUMENT) to answer `method`'s request with, or undefined when
 * connect-node should decide. Never rejects.
 */
export async function checkRequestMessage(method: DescMethod, req: RequestHead, body: BufferedBody, options: RequestCheckOptions): Promise<ConnectError | undefined> {
  const wire = wireOf(req.headers["content-type"]);
  if (!wire || !body.complete) return undefined;
  const bytes = body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks);
  const encoding = single(req.headers[wire.encodingHeader]);
  const declared = encoding !== undefined && encoding !== "identity";
  let payload: Uint8Array = bytes;
  let compressed = declared;
  if (wire.enveloped) {
    // No message at all: connect-node's cardinality answer (UNIMPLEMENTED) stands.
    if (bytes.byteLength === 0) return undefined;
    if (bytes.byteLength < HEADER_BYTES) return invalid(`request envelope is truncated: ${bytes.byteLength} of its 5 header bytes were sent`);
    const flags = bytes[0]!;
    const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
    if (HEADER_BYTES + length > bytes.byteLength) return invalid(`request envelope is truncated: it announces ${length} bytes, ${bytes.byteLength - HEADER_BYTES} were sent`);
    // These methods take one message; connect-node would read on and fail the call as INTERNAL.
    if (HEADER_BYTES + length < bytes.byteLength) return invalid(`request carries more than one message: ${bytes.byteLength - HEADER_BYTES - length} bytes follow the first`);
    if ((flags & ~COMPRESSED) !== 0) return invalid(`request envelope has flags 0x${flags.toString(16).padStart(2, "0")}: only 0x01 (compressed) is allowed`);
    compressed = (flags & COMPRESSED) !== 0;
    if (compressed && !declared) return invalid(`request message has the compressed flag set, but the request declares no ${wire.encodingHeader}`);
    payload = bytes.subarray(HEADER_BYTES, HEADER_BYTES + length);
  }
  if (compressed) {
    const compression = options.acceptCompression.find((c) => c.name === encoding);
    if (!compression) return undefined;
    try {
      payload = await compression.decompress(payload, options.readMaxBytes);
    } catch (error) {
      // Too large once inflated: connect-node's own answer (RESOURCE_EXHAUSTED) is the right one.
      if (error instanceof ConnectError && error.code === Code.ResourceExhausted) return undefined;
      return invalid(`request message could not be decompressed as ${encoding}`);
    }
  }
  if (!wire.binary) return checkJson(payload);
  try {
    fromBinary(method.input, payload);
    return undefined;
  } catch (error) {
    return invalid(`request message is not valid protobuf: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * JSON is refused when nested too deep (before anything parses it) or when a string holds an
 * unpaired surrogate ("\ud800"): connect-node would repeat it in an error message that its
 * gRPC trailer encoding cannot percent-encode, and the call would never be answered. Such a
 * surrogate can only be written as a \u escape (UTF-8 cannot carry one), so text without a
 * \uD800–\uDFFF escape is not parsed here at all.
 */
function checkJson(payload: Uint8Array): ConnectError | undefined {
  if (exceedsJsonDepth(payload)) return invalid(tooDeepMessage("request message"));
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
  if (!SURROGATE_ESCAPE.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not JSON: connect-node says so
  }
  return hasLoneSurrogate(value) ? invalid("request message has a string that is not valid Unicode (unpaired surrogate)") : undefined;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function wireOf(contentType: string | string[] | undefined): Wire | undefined {
  if (typeof contentType !== "string") return undefined;
  const grpc = parseGrpcType(contentType);
  if (grpc) return { enveloped: true, binary: grpc.binary, encodingHeader: "grpc-encoding" };
  const grpcWeb = parseGrpcWebType(contentType);
  // gRPC-Web text (base64) is not served at all: connect-node answers 415.
  if (grpcWeb) return grpcWeb.text ? undefined : { enveloped: true, binary: grpcWeb.binary, encodingHeader: "grpc-encoding" };
  const connect = parseConnectType(contentType);
  if (connect) return { enveloped: connect.stream, binary: connect.binary, encodingHeader: connect.stream ? "connect-content-encoding" : "content-encoding" };
  return undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
