/**
 * Every private symbol of @connectrpc/connect that Parley uses, imported in this one place.
 * connect marks them "@private … does not follow semantic versioning"; the fast paths
 * (fast/, unary-calls.ts) and the request check need them to
 * write exactly what connect-node writes without its per-call pipeline. So package.json pins
 * @connectrpc/connect and @connectrpc/connect-node to exactly CONNECT_VERSION, and
 * test/unit/connect-private.test.ts checks the installed version and what each symbol does:
 * an upgrade that changes any of them fails there, loudly, not on the wire. (The byte-for-byte
 * tests against connect-node, test/e2e/rpc-fast-path.test.ts, stay the final word.)
 */
export { encodeEnvelope, invokeUnaryImplementation } from "@connectrpc/connect/protocol";
export { endStreamFlag, endStreamToJson, parseContentType as parseConnectContentType } from "@connectrpc/connect/protocol-connect";
export {
  contentTypeProto as grpcContentTypeProto,
  parseContentType as parseGrpcContentType,
  parseTimeout as parseGrpcTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
export { parseContentType as parseGrpcWebContentType, trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/** The one version of @connectrpc/connect and connect-node these symbols are known to behave as tested. */
export const CONNECT_VERSION = "2.2.0";
