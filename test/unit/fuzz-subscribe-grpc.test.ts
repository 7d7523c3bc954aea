/**
 * Property-based tests of subscribe-request decoding and the gRPC wire pieces (issue #11,
 * item 11): the SSE / WebSocket subscribe request with `Last-Event-ID` (subscribe-request.ts),
 * the RPC fast path's body reading, single-envelope rule, request match and message decoding
 * (rpc/fast/), `grpc-timeout` (grpc-unary-path.ts) and response envelopes
 * (streams/message-encodings.ts). Parsers refuse cleanly (a 4xx error, or "not mine" so connect-node answers),
 * what they accept is something the rest of the server can hold, and encoders round-trip.
 * Seeded and bounded: see test/support/fuzz-seed.ts (FUZZ_SEED, FUZZ_RUNS).
 */
import { Readable } from "node:stream";
import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import {
  MessageService,
  SubscribeDirectMessagesRequestSchema,
  SubscribeDirectMessagesResponseSchema,
  SubscribeRoomRequestSchema,
  SubscribeRoomResponseSchema,
} from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { StreamOpener, type StreamOpenerDeps } from "../../src/edges/streams/stream-open.js";
import { decodeSubscribeRequest } from "../../src/edges/streams/subscribe-request.js";
import { buildRouteTable } from "../../src/edges/rest/route-table.js";
import { parseGrpcTimeout } from "../../src/edges/rpc/fast/grpc-unary-path.js";
import { type FrameFormat, MessageEncodings } from "../../src/edges/streams/message-encodings.js";
import { readBody, singleEnvelope } from "../../src/edges/rpc/request-body.js";
import { decodeSubscribe } from "../../src/edges/rpc/fast/subscribe-decoding.js";
import { matchFastStream, type FastStreamRequest } from "../../src/edges/rpc/wire-protocol.js";
import { frameToProto, roomFrameToProto } from "../../src/edges/rpc/to-proto.js";
import type { Frame } from "../../src/realtime/subscription.js";
import { propertyParameters } from "../support/fuzz-seed.js";
import { assertCleanRefusal, FuzzBytes } from "../support/refusal.js";

const INT64_MAX = (1n << 63n) - 1n;
/** The longest delay Node's timers honour; a longer one fires after 1 ms (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

// Only `validate` is used here, and it needs only the validator; the rest serves open streams.
const opener = new StreamOpener({ validator: createValidator() } as unknown as StreamOpenerDeps);
const table = buildRouteTable([AuthService, RoomService, MessageService]);
const roomRoute = table.routes.find((r) => r.template.source === "/room/{room_id}/subscribe")!;
const dmsRoute = table.routes.find((r) => r.template.source === "/me/subscribe")!;

const canonicalId = fc.bigInt({ min: 1n, max: INT64_MAX }).map(String);
const idText = fc.oneof(
  { weight: 3, arbitrary: canonicalId },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{19,22}$/) },
  { weight: 1, arbitrary: fc.constantFrom("", "0", "-1", " 1", "1 ", "1e3", "0x1", "%31", "１２", "1\u0000", "../1") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
);
const headerValue = fc.oneof(idText, fc.tuple(fc.constantFrom(" ", "\t", ""), canonicalId, fc.constantFrom(" ", "\t", "")).map(([a, id, b]) => `${a}${id}${b}`), fc.constant(undefined));

/** Why an accepted id cannot be used, or undefined when it can. */
function unusableId(id: string): string | undefined {
  if (!/^[0-9]+$/.test(id)) return `"${id}" is not a decimal id`;
  if (BigInt(id) > INT64_MAX) return `${id} is above int64 max: the store cannot hold it (a 500)`;
  return undefined;
}

// ---- SSE / WebSocket subscribe requests ----------------------------------------------------

describe("subscribe requests with Last-Event-ID (property-based)", () => {
  const query = fc.array(fc.tuple(fc.constantFrom("since", "ticket", "room_id", "roomId", "limit", "x", ""), idText), { maxLength: 3 }).map((pairs) => new URLSearchParams(pairs));

  test.prop([fc.boolean(), idText, query, headerValue], propertyParameters(2_000))(
    "any room id, query and Last-Event-ID is decoded or refused with a 4xx",
    (room, roomId, q, lastEventId) => {
      const input = `room=${room} room_id=${JSON.stringify(roomId)} ?${q.toString()} Last-Event-ID: ${JSON.stringify(lastEventId)}`;
      try {
        decodeSubscribeRequest(opener, room ? roomRoute : dmsRoute, room ? { room_id: encodeURIComponent(roomId) } : {}, q, lastEventId);
      } catch (error) {
        assertCleanRefusal(error, input);
      }
    },
  );

  test.prop([fc.boolean(), idText, headerValue], propertyParameters(1_000))(
    "an accepted room id or resume cursor is one the store can hold (issue #11 item 6: 20-digit ids answered 500)",
    (room, roomId, lastEventId) => {
      let request;
      try {
        request = decodeSubscribeRequest(opener, room ? roomRoute : dmsRoute, room ? { room_id: encodeURIComponent(roomId) } : {}, new URLSearchParams(), lastEventId);
      } catch {
        return;
      }
      const problems = [request.since === "" ? undefined : unusableId(request.since), request.target.kind === "room" ? unusableId(request.target.roomId) : undefined].filter(Boolean);
      if (problems.length > 0) throw new Error(`accepted room_id ${JSON.stringify(roomId)}, Last-Event-ID ${JSON.stringify(lastEventId)}: ${problems.join("; ")}`);
    },
  );

  test.prop([canonicalId, fc.constantFrom("", " ", "\t"), fc.option(canonicalId, { nil: undefined })], propertyParameters(1_000))(
    "Last-Event-ID round-trips as the resume cursor (trimmed), and ?since= wins over it",
    (id, pad, since) => {
      const q = new URLSearchParams(since === undefined ? [] : [["since", since]]);
      const request = decodeSubscribeRequest(opener, roomRoute, { room_id: "42" }, q, `${pad}${id}${pad}`);
      expect(request).toEqual({ target: { kind: "room", roomId: "42", presence: false }, since: since ?? id });
    },
  );
});

// ---- the RPC fast path ---------------------------------------------------------------------

/** The node's one encoding cache, as the fast path uses it (one instance: its counter is this test's own). */
const encodings = new MessageEncodings();
const frameEnvelope = (frame: Frame, format: FrameFormat) => encodings.rpcEnvelope(frame, format);
const rpcMessageEncodings = () => encodings.rpcEncodings;

const ROOM_PATH = "/chat.v1.MessageService/SubscribeRoom";
const DMS_PATH = "/chat.v1.MessageService/SubscribeDirectMessages";

/** Bytes a client may send as a subscribe body: real requests (binary or JSON), mutated ones, and noise. */
const requestPayload = fc.oneof(
  fc.record({ roomId: idText, since: idText }).map((m) => ({ binary: true, bytes: toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, m)) })),
  fc.record({ roomId: idText, since: idText }).map((m) => ({ binary: false, bytes: new TextEncoder().encode(toJsonString(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, m))) })),
  fc.tuple(fc.record({ roomId: canonicalId, since: canonicalId }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, byte]) => {
    const bytes = toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, m));
    bytes[at % bytes.length] = byte;
    return { binary: true, bytes };
  }),
  fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 40 })).map(([binary, bytes]) => ({ binary, bytes })),
  fc.tuple(fc.boolean(), fc.jsonValue({ maxDepth: 3 })).map(([, v]) => ({ binary: false, bytes: new TextEncoder().encode(JSON.stringify(v)) })),
);

function fastRequest(kind: "room" | "direct", binary: boolean): FastStreamRequest {
  const method = kind === "room" ? MessageService.method.subscribeRoom : MessageService.method.subscribeDirectMessages;
  return { procedure: kind === "room" ? ROOM_PATH : DMS_PATH, method, kind, protocol: "connect", binary };
}

describe("the RPC subscribe fast path (property-based)", () => {
  test.prop([fc.constantFrom("room" as const, "direct" as const), requestPayload], propertyParameters(2_000))(
    "decodeSubscribe accepts only requests whose ids the store can hold (issue #11 item 6); anything else throws and goes to connect-node",
    (kind, { binary, bytes }) => {
      let intent;
      try {
        intent = decodeSubscribe(fastRequest(kind, binary), bytes, opener);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        return;
      }
      const problems = [intent.since === "" ? undefined : unusableId(intent.since), intent.target.kind === "room" ? unusableId(intent.target.roomId) : undefined].filter(Boolean);
      if (problems.length > 0) throw new Error(`fast path accepted a ${kind} request ${binary ? `0x${Buffer.from(bytes).toString("hex")}` : new TextDecoder().decode(bytes)}: ${problems.join("; ")}`);
    },
  );

  test.prop([fc.constantFrom("room" as const, "direct" as const), canonicalId, fc.oneof(fc.constant(""), canonicalId), fc.boolean(), fc.boolean()], propertyParameters(1_000))(
    "valid requests round-trip through either encoding: decodeSubscribe(encode(r)) = r",
    (kind, roomId, since, binary, presence) => {
      const schema = kind === "room" ? SubscribeRoomRequestSchema : SubscribeDirectMessagesRequestSchema;
      const message = kind === "room" ? create(SubscribeRoomRequestSchema, { roomId, since, presence }) : create(SubscribeDirectMessagesRequestSchema, { since });
      const bytes = binary ? toBinary(schema, message as never) : new TextEncoder().encode(toJsonString(schema, message as never));
      expect(decodeSubscribe(fastRequest(kind, binary), bytes, opener)).toEqual({ target: kind === "room" ? { kind: "room", roomId, presence } : { kind: "direct" }, since });
    },
  );

  const chunks = fc.array(fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)), { maxLength: 6 }).map((c) => new FuzzBytes(c));
  test.prop([chunks, fc.integer({ min: 0, max: 80 })], propertyParameters(1_000))(
    "readBody stops past the limit, replays every byte, and singleEnvelope never throws",
    async ({ chunks: parts, bytes: all }, maxBytes) => {
      const body = await readBody(Readable.from(parts), maxBytes);
      expect(body.complete).toBe(all.length <= maxBytes || parts.reduce((n, p) => n + p.length, 0) <= maxBytes);
      const replayed: Uint8Array[] = [];
      for await (const chunk of body.replay()) replayed.push(chunk);
      expect(Buffer.concat(replayed)).toEqual(all);
      const payload = singleEnvelope(body);
      if (payload !== undefined) {
        expect(all[0]).toBe(0);
        expect(all.readUInt32BE(1)).toBe(all.length - 5);
        expect(Buffer.from(payload)).toEqual(all.subarray(5));
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 60 }), fc.array(fc.nat(), { maxLength: 3 }), fc.integer({ min: 0, max: 255 })], propertyParameters(1_000))(
    "envelopes round-trip: singleEnvelope(encodeEnvelope(0, p)) = p, however split; other flags are refused",
    async (payload, cuts, flags) => {
      const bytes = Buffer.from(encodeEnvelope(flags, payload));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const parts = [...points, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : points[i - 1], end));
      const got = singleEnvelope(await readBody(Readable.from(parts.filter((p) => p.length > 0)), 1024));
      if (flags === 0) expect(Buffer.from(got!)).toEqual(Buffer.from(payload));
      else expect(got).toBeUndefined();
    },
  );

  const headerText = fc.oneof(
    fc.constantFrom("application/grpc", "application/grpc+proto", "application/grpc+json", "application/grpc-web", "application/grpc-web-text", "application/connect+proto", "application/connect+json", "application/json", "application/proto"),
    fc.string({ maxLength: 30 }),
  );
  test.prop(
    [fc.record({ method: fc.constantFrom("POST", "GET", "post", undefined), url: fc.oneof(fc.constantFrom(ROOM_PATH, DMS_PATH, `${ROOM_PATH}?x=1`, `${ROOM_PATH}/`, "/chat.v1.MessageService/PostMessage"), fc.string({ maxLength: 30 })), headers: fc.dictionary(fc.constantFrom("content-type", "grpc-timeout", "connect-timeout-ms", "grpc-encoding", "connect-content-encoding"), fc.oneof(headerText, fc.array(headerText, { maxLength: 2 }))) })],
    propertyParameters(2_000),
  )("matchFastStream never throws, and takes only uncompressed POSTs to the two subscribe procedures without a deadline", (head) => {
    const match = matchFastStream(head);
    if (match === undefined) return;
    expect(head.method).toBe("POST");
    expect([ROOM_PATH, DMS_PATH]).toContain(head.url!.split("?")[0]);
    expect(head.headers["grpc-timeout"] ?? head.headers["connect-timeout-ms"]).toBeUndefined();
  });

  const message: fc.Arbitrary<ChatMessage> = fc.record({
    id: canonicalId,
    channel: fc.oneof(canonicalId.map((id) => ({ kind: "room" as const, id })), canonicalId.map((id) => ({ kind: "user" as const, id }))),
    senderId: canonicalId,
    senderName: fc.string({ unit: "grapheme", maxLength: 32 }),
    text: fc.string({ unit: "grapheme", maxLength: 200 }),
    createdAtMs: fc.integer({ min: 1_735_689_600_000, max: 4_102_444_800_000 }),
    clientMessageId: fc.stringMatching(/^[A-Za-z0-9_.:-]{0,64}$/),
  });
  const frame: fc.Arbitrary<Frame> = fc.oneof(
    message.map((m) => ({ kind: "message" as const, message: m })),
    canonicalId.map((position) => ({ kind: "ready" as const, position, heartbeatMs: 15_000 })),
    fc.tuple(canonicalId, canonicalId).map(([after, before]) => ({ kind: "gap" as const, after, before })),
    fc.integer({ min: 1_735_689_600_000, max: 4_102_444_800_000 }).map((atMs) => ({ kind: "heartbeat" as const, atMs })),
    fc
      .record({
        channel: fc.oneof(canonicalId.map((id) => ({ kind: "room" as const, id })), canonicalId.map((withUserId) => ({ kind: "direct" as const, withUserId }))),
        lastReadMessageId: fc.oneof(fc.constant("0"), canonicalId),
        unreadCount: fc.integer({ min: 0, max: 100 }),
        moreUnread: fc.boolean(),
      })
      .map((state) => ({ kind: "read" as const, state })),
    fc
      .record({
        channel: fc.oneof(canonicalId.map((id) => ({ kind: "room" as const, id })), canonicalId.map((id) => ({ kind: "user" as const, id }))),
        typistId: canonicalId,
        typistName: fc.string({ unit: "grapheme", maxLength: 32 }),
        untilMs: fc.integer({ min: 1_735_689_600_000, max: 4_102_444_800_000 }),
        stopped: fc.boolean(),
      })
      .map((typing) => ({ kind: "typing" as const, typing })),
    fc
      .record({
        roomId: canonicalId,
        count: fc.integer({ min: 0, max: 100_000 }),
        joined: fc.array(fc.record({ userId: canonicalId, username: fc.string({ unit: "grapheme", maxLength: 32 }) }), { maxLength: 5 }),
        left: fc.array(fc.record({ userId: canonicalId, username: fc.string({ unit: "grapheme", maxLength: 32 }) }), { maxLength: 5 }),
        snapshot: fc.boolean(),
        truncated: fc.boolean(),
      })
      .map((p) => ({ kind: "presence" as const, ...p })),
  );
  test.prop([frame, fc.constantFrom("binary" as const, "json" as const)], propertyParameters(1_000))(
    "response envelopes round-trip: one uncompressed envelope whose message decodes to the frame (a room stream's frame as either response)",
    (f, format) => {
      const envelope = frameEnvelope(f, format);
      expect(envelope[0]).toBe(0);
      expect(envelope.readUInt32BE(1)).toBe(envelope.length - 5);
      const data = envelope.subarray(5);
      const asRoom = (): unknown =>
        format === "binary" ? fromBinary(SubscribeRoomResponseSchema, data) : fromJsonString(SubscribeRoomResponseSchema, data.toString());
      if (f.kind === "presence") {
        // Room streams only: encoded as SubscribeRoomResponse (field 7, reserved in the direct response).
        expect(asRoom()).toEqual(create(SubscribeRoomResponseSchema, { frame: roomFrameToProto(f) }));
        return;
      }
      // Room-list frames never reach this encoder (WatchRooms is connect-node's): the arbitrary makes none.
      if (f.kind === "room") throw new Error("unexpected room-list frame");
      const decoded =
        format === "binary" ? fromBinary(SubscribeDirectMessagesResponseSchema, data) : fromJsonString(SubscribeDirectMessagesResponseSchema, data.toString());
      expect(decoded).toEqual(create(SubscribeDirectMessagesResponseSchema, { frame: frameToProto(f) }));
      if (f.kind === "read") return;
      expect(asRoom()).toEqual(create(SubscribeRoomResponseSchema, { frame: roomFrameToProto(f) }));
    },
  );
});

// ---- grpc-timeout --------------------------------------------------------------------------

describe("grpc-timeout (property-based)", () => {
  const UNITS = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 } as const;
  const wellFormed = fc.tuple(fc.stringMatching(/^[0-9]{1,8}$/), fc.constantFrom(...(Object.keys(UNITS) as (keyof typeof UNITS)[])));
  const header = fc.oneof(
    wellFormed.map(([n, u]) => `${n}${u}`),
    fc.constantFrom("", "1", "S", "123456789S", "-1S", "1.5S", "1s", "1 S", " 1S", "1SS", "0n", "99999999H"),
    fc.string({ maxLength: 12 }),
    fc.array(wellFormed.map(([n, u]) => `${n}${u}`), { minLength: 2, maxLength: 2 }),
  );

  test.prop([header], propertyParameters(2_000))("any grpc-timeout is a deadline or an INVALID_ARGUMENT, never a throw", (value) => {
    const parsed = parseGrpcTimeout(value);
    if (parsed.error) {
      expect(parsed.error).toBeInstanceOf(ConnectError);
      expect(parsed.error.code).toBe(Code.InvalidArgument);
    }
  });

  test.prop([wellFormed], propertyParameters(1_000))("a well-formed grpc-timeout round-trips to its value in milliseconds", ([digits, unit]) => {
    const parsed = parseGrpcTimeout(`${digits}${unit}`);
    if (parsed.error) return; // beyond what the server takes: refused, see the next property
    expect(parsed.timeoutMs).toBeCloseTo(Number(digits) * UNITS[unit], 6);
  });

  test.prop([wellFormed], propertyParameters(1_000))(
    "an accepted deadline is one Node's timers can honour (longer ones fire after 1 ms: the call fails at once with DEADLINE_EXCEEDED; fuzz-findings.test.ts)",
    ([digits, unit]) => {
      const parsed = parseGrpcTimeout(`${digits}${unit}`);
      if (parsed.error || parsed.timeoutMs === undefined) return;
      if (parsed.timeoutMs > MAX_TIMER_MS) {
        throw new Error(`grpc-timeout ${digits}${unit} is accepted as ${parsed.timeoutMs} ms, above the ${MAX_TIMER_MS} ms a timer can wait: the deadline fires after 1 ms`);
      }
    },
  );
});
