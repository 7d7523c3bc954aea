/**
 * The end of a subscribe stream in each wire protocol, with connect's own serialisers so the
 * status reads exactly as connect-node writes it: gRPC puts grpc-status / grpc-message in HTTP
 * trailers; gRPC-Web puts the same fields in a final trailer envelope (flag 0x80) of the body;
 * Connect ends with an end-stream envelope (flag 0x02) holding `{}` or `{"error": {...}}`.
 * Errors are ConnectErrors (edges/http/error-mapping.ts), their metadata included (retry-after).
 */
import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, endStreamFlag, endStreamToJson, setTrailerStatus, trailerFlag, trailerSerialize } from "../connect-private.js";
import type { WireProtocol } from "../wire-protocol.js";

/** What ends a stream on the wire: a last body chunk, HTTP trailers, or both absent. */
export interface StreamEnd {
  /** Bytes to write before ending the body (gRPC-Web trailer frame, Connect end-stream frame). */
  readonly body?: Uint8Array;
  /** HTTP trailers (gRPC). */
  readonly trailers?: Readonly<Record<string, string>>;
}

/** The end of a stream for `error` (undefined: status OK) in `protocol`. */
export function streamEnd(protocol: WireProtocol, error: ConnectError | undefined): StreamEnd {
  switch (protocol) {
    case "grpc":
      return { trailers: headerRecord(grpcStatus(error)) };
    case "grpc-web":
      return { body: encodeEnvelope(trailerFlag, trailerSerialize(grpcStatus(error))) };
    case "connect": {
      const json = JSON.stringify(endStreamToJson(new Headers(), error, undefined));
      return { body: encodeEnvelope(endStreamFlag, new TextEncoder().encode(json)) };
    }
  }
}

function grpcStatus(error: ConnectError | undefined): Headers {
  return setTrailerStatus(new Headers(), error);
}

/** Headers as the plain record node:http2's writeHead and addTrailers take. */
export function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => (record[name] = value));
  return record;
}
