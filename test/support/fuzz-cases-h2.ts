/**
 * HTTP/2 (h2c) cases of the protocol fuzz. Two kinds:
 * - a call through node:http2 (valid framing) to any procedure or REST path, with any content
 *   type, compression and deadline headers, and a body of gRPC envelopes with random flags,
 *   lengths and payloads — judged by its :status and grpc-status;
 * - raw frames after a valid connection preface: any type, flags, stream id and length, bad
 *   SETTINGS, header blocks with missing or odd pseudo-headers — judged by the server surviving.
 */
import type { FuzzContext } from "./fuzz-cases-ws.js";
import { encodePathValue, envelopes, fuzzId, PROCEDURES, protobufBody } from "./fuzz-cases-http.js";
import { deepJson, randomJson, type Rng } from "./fuzz-random.js";
import { FLAG, FRAME, h2Frame, H2_PREFACE, hpackBlock, settingsFrame } from "./wire-h2.js";

export interface H2CallCase {
  readonly kind: "call";
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly description: string;
}

export interface H2RawCase {
  readonly kind: "raw";
  readonly bytes: Buffer;
  readonly description: string;
}

export type H2Case = H2CallCase | H2RawCase;

function callCase(rng: Rng, ctx: FuzzContext): H2CallCase {
  const rest = rng.chance(0.15);
  const path = rest ? rng.pick([`/rooms/${encodePathValue(fuzzId(rng, ctx))}`, "/rooms", `/room/${encodePathValue(fuzzId(rng, ctx))}/messages`, "/auth/signin"]) : rng.pick(PROCEDURES);
  const contentType = rest ? "application/json" : rng.weighted([[6, "application/grpc"], [1, "application/grpc+proto"], [1, "application/grpc+json"], [1, "application/grpc-web+proto"], [1, "application/connect+proto"], [1, "application/proto"], [1, "application/json"], [1, "text/plain"]] as const);
  const headers: Record<string, string> = { ":method": rng.weighted([[9, "POST"], [1, rng.pick(["GET", "PUT", "DELETE"])]] as const), ":path": path, "content-type": contentType };
  if (rng.chance(0.9)) headers["authorization"] = `Bearer ${ctx.token}`;
  if (contentType.startsWith("application/grpc")) headers["te"] = "trailers";
  if (rng.chance(0.15)) headers["grpc-encoding"] = rng.pick(["gzip", "identity", "deflate", "snappy", "x"]);
  if (rng.chance(0.15)) headers["grpc-timeout"] = rng.pick(["1S", "100m", "0n", "99999999H", "1", "abc", "-1S", "123456789S"]);
  const json = contentType.includes("json");
  const payload = () => (json ? Buffer.from(rng.chance(0.2) ? deepJson(rng, rng.range(500, 20_000)) : randomJson(rng, 3)) : protobufBody(rng, ctx));
  const body = rest ? payload() : envelopes(rng, payload);
  return { kind: "call", headers, body, description: `h2 call ${headers[":method"]} ${path} (${contentType}${headers["grpc-encoding"] ? `, grpc-encoding ${headers["grpc-encoding"]}` : ""}${headers["grpc-timeout"] ? `, grpc-timeout ${headers["grpc-timeout"]}` : ""})` };
}

function rawFrame(rng: Rng, ctx: FuzzContext, streamId: number): { name: string; bytes: Buffer } {
  const requestHeaders = (): [string, string][] => {
    const headers: [string, string][] = [[":method", "POST"], [":scheme", "http"], [":path", rng.pick(PROCEDURES)], [":authority", "127.0.0.1"], ["content-type", "application/grpc"], ["te", "trailers"], ["authorization", `Bearer ${ctx.token}`]];
    if (rng.chance(0.3)) headers.splice(rng.int(4), 1); // a missing pseudo-header
    if (rng.chance(0.2)) headers.push(rng.pick([[":path", ""], [":method", ""], [":authority", "127.0.0.1:99999"], [":authority", "a b"], ["connection", "keep-alive"], ["Upper-Case", "x"], [":unknown", "1"], ["te", "gzip"], ["content-length", "5"], ["host", "x"]] as [string, string][]));
    if (rng.chance(0.2)) headers.reverse();
    return headers;
  };
  const kinds: [number, () => { name: string; bytes: Buffer }][] = [
    [4, () => ({ name: "HEADERS", bytes: h2Frame(FRAME.headers, FLAG.endHeaders | (rng.chance(0.3) ? FLAG.endStream : 0), streamId, hpackBlock(requestHeaders())) })],
    [3, () => ({ name: "DATA (envelopes)", bytes: h2Frame(FRAME.data, rng.chance(0.7) ? FLAG.endStream : 0, streamId, envelopes(rng, () => protobufBody(rng, ctx))) })],
    [1, () => ({ name: "HEADERS without END_HEADERS, then CONTINUATION", bytes: Buffer.concat([h2Frame(FRAME.headers, 0, streamId, hpackBlock(requestHeaders())), h2Frame(FRAME.continuation, rng.chance(0.5) ? FLAG.endHeaders : 0, rng.chance(0.8) ? streamId : streamId + 2, hpackBlock([["x", "y"]]))]) })],
    [1, () => ({ name: "HEADERS with a bad HPACK block", bytes: h2Frame(FRAME.headers, FLAG.endHeaders, streamId, rng.bytes(1 + rng.int(20))) })],
    [1, () => ({ name: "SETTINGS with bad values", bytes: settingsFrame([rng.pick([[2, 2], [4, 0x80000000], [5, 100], [5, 0x1000000], [3, 0], [0xff, 1]] as [number, number][])]) })],
    [1, () => ({ name: "SETTINGS with a bad length", bytes: h2Frame(FRAME.settings, 0, 0, rng.bytes(1 + rng.int(5))) })],
    [1, () => ({ name: "SETTINGS ack with payload", bytes: h2Frame(FRAME.settings, FLAG.ack, 0, rng.bytes(6)) })],
    [1, () => ({ name: "WINDOW_UPDATE of 0 or overflow", bytes: h2Frame(FRAME.windowUpdate, 0, rng.pick([0, streamId]), Buffer.from(rng.pick([[0, 0, 0, 0], [0x7f, 0xff, 0xff, 0xff]]))) })],
    [1, () => ({ name: "PING with a bad length", bytes: h2Frame(FRAME.ping, 0, 0, rng.bytes(rng.pick([0, 7, 9]))) })],
    [1, () => ({ name: "PRIORITY on itself", bytes: h2Frame(FRAME.priority, 0, streamId, Buffer.from([0, 0, 0, streamId & 0xff, 16])) })],
    [1, () => ({ name: "RST_STREAM on an idle stream", bytes: h2Frame(FRAME.rstStream, 0, streamId + 10, Buffer.from([0, 0, 0, 8])) })],
    [1, () => ({ name: "DATA on stream 0 or an even stream", bytes: h2Frame(FRAME.data, FLAG.endStream, rng.pick([0, 2, 4]), rng.bytes(rng.int(10))) })],
    [1, () => ({ name: "PUSH_PROMISE from the client", bytes: h2Frame(FRAME.pushPromise, FLAG.endHeaders, streamId, Buffer.concat([Buffer.from([0, 0, 0, 2]), hpackBlock(requestHeaders())])) })],
    [1, () => ({ name: "GOAWAY", bytes: h2Frame(FRAME.goaway, 0, 0, Buffer.from([0, 0, 0, 0, 0, 0, 0, rng.int(14)])) })],
    [1, () => ({ name: "unknown frame type", bytes: h2Frame(10 + rng.int(240), rng.int(256), rng.int(8), rng.bytes(rng.int(20))) })],
    [1, () => ({ name: "length larger than sent", bytes: h2Frame(rng.pick([FRAME.data, FRAME.headers, FRAME.settings]), 0, streamId, rng.bytes(rng.int(10)), rng.pick([16_385, 0xffffff, rng.length()])) })],
    [1, () => ({ name: "padded frame with bad padding", bytes: h2Frame(rng.pick([FRAME.data, FRAME.headers]), FLAG.padded | FLAG.endHeaders, streamId, Buffer.from([200, 1, 2])) })],
    [1, () => ({ name: "random bytes", bytes: rng.bytes(1 + rng.int(30)) })],
    [2, () => ({ name: "mutated HEADERS+DATA", bytes: rng.mutate(Buffer.concat([h2Frame(FRAME.headers, FLAG.endHeaders, streamId, hpackBlock(requestHeaders())), h2Frame(FRAME.data, FLAG.endStream, streamId, envelopes(rng, () => protobufBody(rng, ctx)))])) })],
  ];
  return rng.weighted(kinds)();
}

function rawCase(rng: Rng, ctx: FuzzContext): H2RawCase {
  const frames: { name: string; bytes: Buffer }[] = [];
  let streamId = 1;
  for (let n = rng.range(1, 8); n > 0; n--) {
    frames.push(rawFrame(rng, ctx, streamId));
    if (rng.chance(0.4)) streamId += 2;
  }
  const preface = Buffer.concat([H2_PREFACE, settingsFrame(rng.chance(0.8) ? [] : [[4, 65_535]])]);
  return { kind: "raw", bytes: Buffer.concat([preface, ...frames.map((f) => f.bytes)]), description: `h2 raw frames: ${frames.map((f) => f.name).join(" → ")}` };
}

/** The h2 case number `index`. */
export function h2Case(rng: Rng, ctx: FuzzContext): H2Case {
  return rng.chance(0.55) ? callCase(rng, ctx) : rawCase(rng, ctx);
}
