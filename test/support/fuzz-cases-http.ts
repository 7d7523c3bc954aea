/**
 * HTTP/1.1 cases of the protocol fuzz: requests to every kind of route — REST (JSON bodies, deep
 * or random), Connect unary (JSON and binary, POST and GET with the query encoding) and streaming
 * (the subscribe fast path, enveloped), gRPC-Web
 * envelopes, SSE subscribe with Last-Event-ID, sign-in, static files — sent with content-length
 * or chunked bodies (some malformed), odd request lines and headers, and sometimes mutated
 * byte by byte.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { GetRoomRequestSchema } from "../../gen/chat/v1/room_pb.js";
import { ListMessagesRequestSchema, PostMessageRequestSchema, SendDirectMessageRequestSchema } from "../../gen/chat/v1/message_pb.js";
import type { FuzzContext } from "./fuzz-cases-ws.js";
import { deepJson, randomJson, type Rng } from "./fuzz-random.js";

export interface HttpCase {
  readonly bytes: Buffer;
  readonly description: string;
}

/** Procedures of the chat services, plus a few that do not exist. */
export const PROCEDURES = [
  "/chat.v1.AuthService/SignIn",
  "/chat.v1.AuthService/SignUp",
  "/chat.v1.AuthService/GetMe",
  "/chat.v1.AuthService/CreateStreamTicket",
  "/chat.v1.RoomService/CreateRoom",
  "/chat.v1.RoomService/GetRoom",
  "/chat.v1.RoomService/ListRooms",
  "/chat.v1.MessageService/PostMessage",
  "/chat.v1.MessageService/ListMessages",
  "/chat.v1.MessageService/SendDirectMessage",
  "/chat.v1.MessageService/ListDirectMessages",
  "/chat.v1.MessageService/SubscribeRoom",
  "/chat.v1.MessageService/SubscribeDirectMessages",
  "/chat.v1.MessageService/Nope",
  "/chat.v2.RoomService/GetRoom",
  "/grpc.health.v1.Health/Check",
] as const;

/** encodeURIComponent, with unpaired surrogates (which it cannot encode) replaced. */
export function encodePathValue(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));
}

/** An id of every shape: real, zero-padded, 20 digits, over int64, junk. */
export function fuzzId(rng: Rng, ctx: FuzzContext): string {
  return rng.pick([ctx.roomId, ctx.userId, "1", "99999999999999999999", "9223372036854775808", `0${ctx.roomId}`, "-1", "%2e%2e", "1%00", rng.text(4)]);
}

/** A protobuf request body: a real message (sometimes with out-of-range ids), mutated, or noise. */
export function protobufBody(rng: Rng, ctx: FuzzContext): Buffer {
  const real = rng.pick([
    () => toBinary(GetRoomRequestSchema, create(GetRoomRequestSchema, { roomId: fuzzId(rng, ctx) })),
    () => toBinary(PostMessageRequestSchema, create(PostMessageRequestSchema, { roomId: fuzzId(rng, ctx), text: rng.text(10) || "x" })),
    () => toBinary(ListMessagesRequestSchema, create(ListMessagesRequestSchema, { roomId: fuzzId(rng, ctx), before: fuzzId(rng, ctx) })),
    () => toBinary(SendDirectMessageRequestSchema, create(SendDirectMessageRequestSchema, { recipient: { case: "recipientUserId", value: fuzzId(rng, ctx) }, text: "hi" })),
  ])();
  return rng.weighted([
    [4, () => Buffer.from(real)],
    [3, () => rng.mutate(Buffer.from(real))],
    [2, () => rng.bytes(rng.int(30))],
    [1, () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
  ] as const)();
}

/** One or more gRPC / Connect envelopes with any flags and (possibly lying) lengths. */
export function envelopes(rng: Rng, payload: () => Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let n = rng.weighted([[6, 1], [2, 0], [2, 2]] as const); n > 0; n--) {
    const data = payload();
    const flags = rng.weighted([[6, 0], [2, 1], [1, 2], [1, 0x80], [1, rng.int(256)]] as const);
    const env = Buffer.from(encodeEnvelope(flags, data));
    if (rng.chance(0.15)) env.writeUInt32BE(rng.pick([0, data.length + 1, 0xffffffff, rng.length()]), 1);
    parts.push(rng.chance(0.1) ? env.subarray(0, rng.int(env.length)) : env);
  }
  return Buffer.concat(parts);
}

function jsonBody(rng: Rng, ctx: FuzzContext): string {
  return rng.weighted([
    [3, () => randomJson(rng, 4)],
    [2, () => deepJson(rng, rng.range(500, 30_000))],
    [2, () => JSON.stringify({ roomId: fuzzId(rng, ctx), text: rng.text(8) || "z", name: rng.text(8) })],
    [1, () => rng.text(20)],
  ] as const)();
}

interface Draft {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer | undefined;
  what: string;
}

function draft(rng: Rng, ctx: FuzzContext): Draft {
  const auth: [string, string][] = rng.weighted([
    [8, [["authorization", `Bearer ${ctx.token}`]]],
    [1, []],
    [1, [["authorization", rng.pick(["Bearer", "Bearer x.y.z", `Basic ${ctx.token}`, `Bearer ${ctx.token}${rng.text(2)}`])]]],
  ] as const);
  const id = () => encodePathValue(fuzzId(rng, ctx));
  return rng.weighted<() => Draft>([
    [5, () => {
      const [method, target] = rng.pick([
        ["POST", `/room/${id()}/messages`], ["GET", `/room/${id()}/messages?limit=${rng.pick(["1", "-1", "abc", "99999"])}&before=${id()}`], ["POST", "/rooms"],
        ["GET", `/rooms/${id()}`], ["GET", `/me/messages?with=${id()}`], ["POST", `/users/${id()}/messages`], ["GET", "/rooms?page_token=" + encodePathValue(rng.text(10))],
        ["POST", "/auth/signin"], ["POST", "/auth/signup"], ["POST", "/auth/ticket"], ["GET", "/me"], ["DELETE", "/rooms"], ["PUT", `/rooms/${id()}`],
      ] as const);
      const body = method === "GET" && rng.chance(0.8) ? undefined : Buffer.from(jsonBody(rng, ctx));
      return { method, target, headers: [...auth, ["content-type", rng.weighted([[8, "application/json"], [1, "text/plain"], [1, "application/json; charset=latin1"]] as const)]], body, what: `REST ${method} ${target.split("?")[0]}` };
    }],
    [4, () => {
      const procedure = rng.pick(PROCEDURES);
      const binary = rng.chance(0.5);
      const body = binary ? protobufBody(rng, ctx) : Buffer.from(jsonBody(rng, ctx));
      const headers: [string, string][] = [...auth, ["content-type", binary ? "application/proto" : "application/json"], ["connect-protocol-version", "1"]];
      if (rng.chance(0.15)) headers.push(["content-encoding", rng.pick(["gzip", "br", "identity", "x"])]);
      if (rng.chance(0.1)) headers.push(["connect-timeout-ms", rng.pick(["0", "1", "-1", "abc", "99999999999", "9999999999999999"])]);
      return { method: "POST", target: procedure, headers, body, what: `Connect unary ${binary ? "proto" : "JSON"} ${procedure}` };
    }],
    [2, () => {
      const procedure = rng.pick(PROCEDURES);
      const encoding = rng.pick(["json", "proto", "xml", ""]);
      const base64 = rng.chance(0.5);
      const message = encoding === "proto" ? protobufBody(rng, ctx) : Buffer.from(jsonBody(rng, ctx).slice(0, 3000));
      const query = [`connect=${rng.pick(["v1", "v2", ""])}`, `encoding=${encoding}`, `message=${encodeURIComponent(base64 ? message.toString(rng.pick(["base64url", "base64"] as const)) : message.toString("latin1"))}`];
      if (base64) query.push(`base64=${rng.pick(["1", "0", "true"])}`);
      if (rng.chance(0.2)) query.push(`compression=${rng.pick(["gzip", "identity", "zz"])}`);
      return { method: "GET", target: `${procedure}?${query.join("&")}`, headers: auth, body: undefined, what: `Connect GET ${procedure} encoding=${encoding} base64=${base64}` };
    }],
    [2, () => {
      const procedure = rng.pick(PROCEDURES);
      return { method: "POST", target: procedure, headers: [...auth, ["content-type", rng.pick(["application/grpc-web+proto", "application/grpc-web", "application/grpc-web-text", "application/grpc"])], ["x-grpc-web", "1"]], body: envelopes(rng, () => protobufBody(rng, ctx)), what: `gRPC-Web ${procedure}` };
    }],
    [2, () => {
      const procedure = rng.pick(["/chat.v1.MessageService/SubscribeRoom", "/chat.v1.MessageService/SubscribeDirectMessages", rng.pick(PROCEDURES)]);
      const json = rng.chance(0.5);
      const body = envelopes(rng, () => (json ? Buffer.from(jsonBody(rng, ctx)) : protobufBody(rng, ctx)));
      return { method: "POST", target: procedure, headers: [...auth, ["content-type", json ? "application/connect+json" : "application/connect+proto"], ["connect-protocol-version", "1"]], body, what: `Connect streaming ${json ? "JSON" : "proto"} ${procedure}` };
    }],
    [1, () => ({ method: "GET", target: `/room/${id()}/subscribe`, headers: [...auth, ["accept", "text/event-stream"], ["last-event-id", fuzzId(rng, ctx)]], body: undefined, what: "SSE subscribe with Last-Event-ID" })],
    [1, () => ({ method: rng.pick(["GET", "HEAD", "OPTIONS"]), target: rng.pick(["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/assets/x.js", "/%2e%2e/%2e%2e/etc/passwd", "/ws", "*"]), headers: auth, body: undefined, what: "static / health" })],
  ])();
}

/** Serialises a draft, with framing faults: chunked bodies (some malformed), conflicting lengths, odd lines. */
function serialise(rng: Rng, d: Draft): { bytes: Buffer; notes: string[] } {
  const notes: string[] = [];
  const lines = [`${d.method} ${d.target} HTTP/1.1`, "host: 127.0.0.1", "connection: close", ...d.headers.map(([n, v]) => `${n}: ${v}`)];
  let body = d.body ?? Buffer.alloc(0);
  const framing = d.body === undefined ? "none" : rng.weighted([[6, "length"], [3, "chunked"], [1, "both"]] as const);
  if (framing === "length" || framing === "both") lines.push(`content-length: ${body.length}`);
  if (framing === "chunked" || framing === "both") {
    lines.push(`transfer-encoding: ${rng.weighted([[8, "chunked"], [1, "chunked, identity"], [1, "gzip, chunked"]] as const)}`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const size = Math.min(body.length - at, 1 + rng.int(4096));
      const sizeText = rng.chance(0.03) ? rng.pick(["zz", "-1", "ffffffffffffffff", `${size.toString(16)};ext=1`]) : size.toString(16);
      chunks.push(Buffer.from(`${sizeText}\r\n`), body.subarray(at, at + size), Buffer.from("\r\n"));
      at += size;
    }
    if (!rng.chance(0.05)) chunks.push(Buffer.from(rng.chance(0.1) ? "0\r\nx-trailer: 1\r\n\r\n" : "0\r\n\r\n"));
    else notes.push("no last chunk");
    body = Buffer.concat(chunks);
    notes.push("chunked");
  }
  if (framing === "both") notes.push("content-length and transfer-encoding");
  if (rng.chance(0.1)) {
    const fault = rng.pick([
      () => lines.push(`content-length: ${rng.int(100)}`),
      () => lines.push(`x-long: ${"a".repeat(rng.range(8_000, 20_000))}`),
      () => lines.push(" obs-fold continuation"),
      () => lines.push("bad header\u0000name: 1"),
      () => (lines[0] = rng.pick([`${d.method}  ${d.target} HTTP/1.1`, `${d.method} ${d.target} HTTP/1.0`, `${d.method} ${d.target} HTTP/2.0`, `${d.method} ${d.target}`, `${rng.text(6)} ${d.target} HTTP/1.1`])),
      () => lines.push("expect: 100-continue"),
      () => (lines[1] = `host: ${rng.pick(["127.0.0.1:99999", "a b", "[", "", "127.0.0.1:0", "x:y:z", "%", "127.0.0.1, evil.example", "\u00e9"])}`),
    ]);
    fault();
    notes.push("header fault");
  }
  let bytes: Buffer = Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
  if (rng.chance(0.12)) {
    bytes = rng.mutate(bytes);
    notes.push("mutated bytes");
  }
  return { bytes, notes };
}

/** The HTTP/1.1 case number `index`. */
export function httpCase(rng: Rng, ctx: FuzzContext): HttpCase {
  const d = draft(rng, ctx);
  const { bytes, notes } = serialise(rng, d);
  return { bytes, description: `${d.what}${notes.length ? ` [${notes.join(", ")}]` : ""}` };
}
