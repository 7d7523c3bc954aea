/**
 * The request check in front of connect-node (src/edges/rpc/request-check.ts): which bodies it
 * refuses with INVALID_ARGUMENT — malformed protobuf, plain or compressed; the compressed flag
 * without a declared encoding; flags requests never carry; JSON nested too deeply — in each wire
 * protocol, and what it leaves to connect-node: valid messages, framing that is not one envelope,
 * an unknown encoding, a body that does not decompress, a body over the limit.
 */
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { RoomService, CreateRoomRequestSchema } from "../../gen/chat/v1/room_pb.js";
import { checkRequestMessage } from "../../src/edges/rpc/request-check.js";
import { readBody } from "../../src/edges/rpc/request-body.js";

const method = RoomService.method.createRoom;
const options = { readMaxBytes: 4096, acceptCompression: [compressionGzip, compressionBrotli] };
const valid = Buffer.from(toBinary(CreateRoomRequestSchema, create(CreateRoomRequestSchema, { name: "lobby" })));
const truncated = Buffer.from([0x0a, 0x05, 0x41]);

function envelope(data: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

async function check(headers: Record<string, string>, body: Buffer, readMaxBytes = options.readMaxBytes) {
  const read = await readBody(Readable.from([body]), readMaxBytes);
  const error = await checkRequestMessage(method, { method: "POST", url: "/x", headers }, read, { ...options, readMaxBytes });
  return error === undefined ? undefined : { code: error.code, message: error.rawMessage };
}

const invalid = (message: RegExp) => ({ code: Code.InvalidArgument, message: expect.stringMatching(message) });

describe("checkRequestMessage", () => {
  it("passes valid messages in every protocol", async () => {
    expect(await check({ "content-type": "application/grpc" }, envelope(valid))).toBeUndefined();
    expect(await check({ "content-type": "application/grpc-web+proto" }, envelope(valid))).toBeUndefined();
    expect(await check({ "content-type": "application/connect+proto" }, envelope(valid))).toBeUndefined();
    expect(await check({ "content-type": "application/proto" }, valid)).toBeUndefined();
    expect(await check({ "content-type": "application/json" }, Buffer.from('{"name":"lobby"}'))).toBeUndefined();
    expect(await check({ "content-type": "application/grpc", "grpc-encoding": "gzip" }, envelope(gzipSync(valid), 1))).toBeUndefined();
    expect(await check({ "content-type": "application/proto", "content-encoding": "gzip" }, gzipSync(valid))).toBeUndefined();
  });

  it("refuses what is not protobuf, compressed or not", async () => {
    expect(await check({ "content-type": "application/grpc" }, envelope(truncated))).toEqual(invalid(/^request message is not valid protobuf: /));
    expect(await check({ "content-type": "application/proto" }, truncated)).toEqual(invalid(/not valid protobuf/));
    expect(await check({ "content-type": "application/connect+proto", "connect-content-encoding": "gzip" }, envelope(gzipSync(truncated), 1))).toEqual(invalid(/not valid protobuf/));
    expect(await check({ "content-type": "application/proto", "content-encoding": "gzip" }, gzipSync(truncated))).toEqual(invalid(/not valid protobuf/));
  });

  it("refuses the compressed flag without a declared encoding, and flags requests never carry", async () => {
    expect(await check({ "content-type": "application/grpc" }, envelope(valid, 1))).toEqual(invalid(/compressed flag set, but the request declares no grpc-encoding/));
    expect(await check({ "content-type": "application/grpc", "grpc-encoding": "identity" }, envelope(valid, 1))).toEqual(invalid(/compressed flag/));
    expect(await check({ "content-type": "application/connect+proto" }, envelope(valid, 1))).toEqual(invalid(/connect-content-encoding/));
    for (const flags of [0x02, 0x80, 0x03]) {
      expect(await check({ "content-type": "application/grpc-web+proto" }, envelope(valid, flags)), String(flags)).toEqual(invalid(/only 0x01/));
    }
  });

  it("refuses JSON nested more than 64 levels, in every JSON protocol", async () => {
    const deep = Buffer.from(`{"name":"x","y":${"[".repeat(64)}${"]".repeat(64)}}`);
    const fine = Buffer.from(`{"name":"x","y":${"[".repeat(63)}${"]".repeat(63)}}`);
    expect(await check({ "content-type": "application/json" }, fine)).toBeUndefined();
    expect(await check({ "content-type": "application/json" }, deep)).toEqual(invalid(/more than 64 levels deep/));
    expect(await check({ "content-type": "application/json", "content-encoding": "gzip" }, gzipSync(deep))).toEqual(invalid(/levels deep/));
    expect(await check({ "content-type": "application/connect+json" }, envelope(deep))).toEqual(invalid(/levels deep/));
    expect(await check({ "content-type": "application/grpc+json" }, envelope(deep))).toEqual(invalid(/levels deep/));
    expect(await check({ "content-type": "application/grpc-web+json" }, envelope(deep))).toEqual(invalid(/levels deep/));
  });

  it("refuses a truncated envelope, a second message, and a body that does not decompress", async () => {
    const grpc = { "content-type": "application/grpc" };
    expect(await check(grpc, envelope(valid).subarray(0, 3))).toEqual(invalid(/3 of its 5 header bytes/));
    expect(await check(grpc, envelope(valid).subarray(0, 7))).toEqual(invalid(/truncated: it announces/));
    expect(await check(grpc, Buffer.concat([envelope(valid), envelope(valid)]))).toEqual(invalid(/more than one message/));
    expect(await check({ ...grpc, "grpc-encoding": "gzip" }, envelope(Buffer.from("not gzip"), 1))).toEqual(invalid(/could not be decompressed as gzip/));
  });

  it("leaves to connect-node what it cannot judge", async () => {
    const grpc = { "content-type": "application/grpc" };
    expect(await check(grpc, Buffer.alloc(0))).toBeUndefined();
    expect(await check({ ...grpc, "grpc-encoding": "snappy" }, envelope(truncated, 1))).toBeUndefined();
    expect(await check(grpc, envelope(Buffer.alloc(5000)), 4096)).toBeUndefined();
    expect(await check({ "content-type": "application/grpc-web-text" }, envelope(truncated))).toBeUndefined();
    expect(await check({ "content-type": "text/plain" }, truncated)).toBeUndefined();
  });
});
