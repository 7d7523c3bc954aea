/**
 * The private symbols of @connectrpc/connect (src/edges/rpc/connect-private.ts) behave as the
 * fast paths rely on, on the exact version package.json pins. An upgrade that changes the
 * version or any of these behaviours fails here first, naming the symbol; then read the new
 * connect, adjust connect-private.ts and its users, and let test/e2e/rpc-fast-path.test.ts
 * (byte for byte against connect-node) have the last word.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  CONNECT_VERSION,
  encodeEnvelope,
  endStreamFlag,
  endStreamToJson,
  grpcContentTypeProto,
  invokeUnaryImplementation,
  parseConnectContentType,
  parseGrpcContentType,
  parseGrpcTimeout,
  parseGrpcWebContentType,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "../../src/edges/rpc/connect-private.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Headers as a plain record. */
function record(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => (out[key] = value));
  return out;
}
const require = createRequire(import.meta.url);

describe("connect's private symbols", () => {
  it("come from the one version package.json pins exactly", () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const name of ["@connectrpc/connect", "@connectrpc/connect-node"]) {
      expect(pkg.dependencies[name], `${name} must be pinned exactly`).toBe(CONNECT_VERSION);
      // Not exported by the package: found from its entry point, as Node would load it.
      const entry = require.resolve(name);
      const installed = (JSON.parse(readFileSync(resolve(entry.slice(0, entry.lastIndexOf(`/${name}/`) + name.length + 1), "package.json"), "utf8")) as { version: string }).version;
      expect(installed, name).toBe(CONNECT_VERSION);
    }
  });

  it("encodeEnvelope: flags byte, big-endian length, data", () => {
    expect([...encodeEnvelope(2, new Uint8Array([7, 8]))]).toEqual([2, 0, 0, 0, 2, 7, 8]);
    expect([...encodeEnvelope(0, new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
  });

  it("setTrailerStatus: grpc-status and the percent-encoded grpc-message", () => {
    const trailers = new Headers();
    setTrailerStatus(trailers, new ConnectError("bad thing", Code.NotFound));
    expect(record(trailers)).toEqual({ "grpc-status": "5", "grpc-message": "bad%20thing" });
    const ok = new Headers();
    setTrailerStatus(ok, undefined);
    expect(record(ok)).toEqual({ "grpc-status": "0" });
  });

  it("parseGrpcTimeout: grpc-timeout to ms, absent to nothing, garbage to an error", () => {
    expect(parseGrpcTimeout("5S", 10_000)).toEqual({ timeoutMs: 5000 });
    expect(parseGrpcTimeout("250m", 10_000)).toEqual({ timeoutMs: 250 });
    expect(parseGrpcTimeout(null, 10_000)).toEqual({});
    expect(parseGrpcTimeout("x", 10_000).error).toBeInstanceOf(ConnectError);
  });

  it("the content-type parsers tell binary from JSON, stream from unary, and refuse others", () => {
    expect(grpcContentTypeProto).toBe("application/grpc+proto");
    expect(parseGrpcContentType("application/grpc")).toEqual({ binary: true });
    expect(parseGrpcContentType("application/grpc+proto")).toEqual({ binary: true });
    expect(parseGrpcContentType("application/grpc+json")).toEqual({ binary: false });
    expect(parseGrpcContentType("text/plain")).toBeUndefined();
    expect(parseGrpcWebContentType("application/grpc-web+proto")).toEqual({ text: false, binary: true });
    expect(parseGrpcWebContentType("application/grpc-web-text")).toEqual({ text: true, binary: true });
    expect(parseConnectContentType("application/connect+proto")).toEqual({ stream: true, binary: true });
    expect(parseConnectContentType("application/json")).toEqual({ stream: false, binary: false });
    expect(parseConnectContentType("application/grpc")).toBeUndefined();
  });

  it("Connect's end of stream: flag 2, metadata and error as JSON", () => {
    expect(endStreamFlag).toBe(0b10);
    expect(endStreamToJson(new Headers({ "x-a": "1" }), undefined, undefined)).toEqual({ metadata: { "x-a": ["1"] } });
    expect(endStreamToJson(new Headers(), new ConnectError("gone", Code.Unavailable), undefined)).toEqual({ error: { code: "unavailable", message: "gone" } });
  });

  it("gRPC-Web's trailer: flag 0x80, HTTP/1-style header lines", () => {
    expect(trailerFlag).toBe(0b10000000);
    expect(new TextDecoder().decode(trailerSerialize(new Headers({ "grpc-status": "0" })))).toBe("grpc-status: 0\r\n");
  });

  it("invokeUnaryImplementation is still the function unary-calls.ts calls (arity: spec, context, input, interceptors)", () => {
    expect(typeof invokeUnaryImplementation).toBe("function");
    expect(invokeUnaryImplementation.length).toBe(4);
  });
});
