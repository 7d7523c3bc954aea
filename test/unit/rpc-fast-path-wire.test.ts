/**
 * What the subscribe fast path takes from connect-node and what it leaves: the request match
 * (procedure, content type, compression, deadline), the single-envelope body rule, the
 * envelopes of frames (binary equal to toBinary of the response, one encoding per message), and
 * the end of stream in each protocol.
 */
import { Readable } from "node:stream";
import { create, fromBinary, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { SubscribeDirectMessagesResponseSchema, SubscribeRoomResponseSchema } from "../../gen/chat/v1/message_pb.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { type FrameFormat, MessageEncodings } from "../../src/edges/streams/message-encodings.js";
import type { Frame } from "../../src/realtime/stream-contract.js";
import { readBody, singleEnvelope } from "../../src/edges/rpc/request-body.js";
import { streamEnd } from "../../src/edges/rpc/fast/stream-end.js";
import { matchFastStream } from "../../src/edges/rpc/wire-protocol.js";

const ROOM = "/chat.v1.MessageService/SubscribeRoom";
const DMS = "/chat.v1.MessageService/SubscribeDirectMessages";
/** The node's one encoding cache, as the fast path uses it (one instance: its counter is this test's own). */
const encodings = new MessageEncodings();
const frameEnvelope = (frame: Frame, format: FrameFormat) => encodings.rpcEnvelope(frame, format);
const rpcMessageEncodings = () => encodings.rpcEncodings;

const head = (url: string, headers: Record<string, string>, method = "POST") => ({ method, url, headers });

describe("matchFastStream", () => {
  it("takes the two subscribe procedures in gRPC, gRPC-Web and Connect streaming", () => {
    expect(matchFastStream(head(ROOM, { "content-type": "application/grpc" }))).toMatchObject({ kind: "room", protocol: "grpc", binary: true });
    expect(matchFastStream(head(ROOM, { "content-type": "application/grpc+proto" }))).toMatchObject({ protocol: "grpc" });
    expect(matchFastStream(head(DMS, { "content-type": "application/grpc-web+proto" }))).toMatchObject({ kind: "direct", protocol: "grpc-web" });
    expect(matchFastStream(head(DMS, { "content-type": "application/grpc-web" }))).toMatchObject({ protocol: "grpc-web" });
    expect(matchFastStream(head(ROOM, { "content-type": "application/connect+proto" }))).toMatchObject({ protocol: "connect", binary: true });
    expect(matchFastStream(head(ROOM, { "content-type": "application/connect+json" }))).toMatchObject({ protocol: "connect", binary: false });
    expect(matchFastStream(head(ROOM, { "content-type": "application/grpc", "grpc-encoding": "identity" }))).toBeDefined();
  });

  it("leaves everything else to connect-node", () => {
    const cases = [
      head("/chat.v1.MessageService/PostMessage", { "content-type": "application/grpc" }),
      head("/chat.v1.MessageService/SubscribeRoomX", { "content-type": "application/grpc" }),
      // The room list's stream is connect-node's (the fast path encodes message-stream frames only).
      head("/chat.v1.RoomService/WatchRooms", { "content-type": "application/grpc" }),
      head("/chat.v1.RoomService/WatchRooms", { "content-type": "application/connect+json" }),
      head(ROOM, { "content-type": "application/grpc" }, "GET"),
      head(ROOM, { "content-type": "application/grpc+json" }),
      head(ROOM, { "content-type": "application/grpc-web-text" }),
      head(ROOM, { "content-type": "application/grpc-web+json" }),
      head(ROOM, { "content-type": "application/json" }),
      head(ROOM, { "content-type": "application/proto" }),
      head(ROOM, {}),
      head(ROOM, { "content-type": "application/grpc", "grpc-encoding": "gzip" }),
      head(ROOM, { "content-type": "application/connect+proto", "connect-content-encoding": "gzip" }),
      head(ROOM, { "content-type": "application/grpc", "grpc-timeout": "10S" }),
      head(ROOM, { "content-type": "application/connect+json", "connect-timeout-ms": "1000" }),
    ];
    for (const c of cases) expect(matchFastStream(c), JSON.stringify(c)).toBeUndefined();
  });
});

describe("request bodies", () => {
  const envelope = (flags: number, data: number[]) => Buffer.from([flags, 0, 0, 0, data.length, ...data]);

  it("accepts exactly one uncompressed envelope, possibly split over chunks", async () => {
    const body = await readBody(Readable.from([Buffer.from([0, 0, 0]), Buffer.from([0, 2, 8, 1])]), 1024);
    expect(body.complete).toBe(true);
    expect([...singleEnvelope(body)!]).toEqual([8, 1]);
  });

  it("refuses empty, short, compressed, trailing and doubled bodies", async () => {
    for (const chunks of [[], [Buffer.from([0, 0])], [envelope(1, [8, 1])], [envelope(0, [8, 1]), Buffer.from([0])], [envelope(0, [8]), envelope(0, [8])]]) {
      expect(singleEnvelope(await readBody(Readable.from(chunks), 1024)), JSON.stringify(chunks)).toBeUndefined();
    }
  });

  it("stops reading past the limit and replays everything for connect-node", async () => {
    const chunks = [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(600, 3)];
    const body = await readBody(Readable.from(chunks), 1000);
    expect(body.complete).toBe(false);
    expect(body.chunks.length).toBe(2);
    expect(singleEnvelope(body)).toBeUndefined();
    const replayed: Uint8Array[] = [];
    for await (const chunk of body.replay()) replayed.push(chunk);
    expect(Buffer.concat(replayed)).toEqual(Buffer.concat(chunks));
  });
});

describe("frame envelopes", () => {
  const message: ChatMessage = {
    id: "123",
    channel: { kind: "room", id: "7" },
    senderId: "9",
    senderName: "alice",
    text: "héllo 😀",
    createdAtMs: 1_700_000_000_123,
    clientMessageId: "c1",
  };

  it("encode a message once per format, readable as either subscribe response", () => {
    const before = rpcMessageEncodings();
    const bytes = frameEnvelope({ kind: "message", message }, "binary");
    expect(frameEnvelope({ kind: "message", message }, "binary")).toBe(bytes);
    const json = frameEnvelope({ kind: "message", message }, "json");
    expect(rpcMessageEncodings() - before).toBe(2);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(bytes.length - 5);
    const room = fromBinary(SubscribeRoomResponseSchema, bytes.subarray(5));
    const dms = fromBinary(SubscribeDirectMessagesResponseSchema, bytes.subarray(5));
    expect(room.frame.case).toBe("message");
    expect(dms.frame.case).toBe("message");
    expect(room.frame.value).toMatchObject({ messageId: "123", text: "héllo 😀", clientMessageId: "c1", target: { case: "roomId", value: "7" } });
    expect(fromJsonString(SubscribeRoomResponseSchema, json.subarray(5).toString())).toEqual(room);
  });

  it("encode Ready like connect-node would (toBinary of the response)", () => {
    const expected = toBinary(SubscribeRoomResponseSchema, create(SubscribeRoomResponseSchema, { frame: { case: "ready", value: { position: "42", heartbeatInterval: { seconds: 15n } } } }));
    expect([...frameEnvelope({ kind: "ready", position: "42", heartbeatMs: 15_000 }, "binary").subarray(5)]).toEqual([...expected]);
  });

  it("encode a read frame like connect-node would for SubscribeDirectMessages (binary and JSON), counted as no message encoding", () => {
    const before = rpcMessageEncodings();
    const state = { channel: { kind: "direct", withUserId: "8" }, lastReadMessageId: "123", unreadCount: 2, moreUnread: false } as const;
    const response = create(SubscribeDirectMessagesResponseSchema, {
      frame: { case: "read", value: { channel: { case: "withUserId", value: "8" }, lastReadMessageId: "123", unreadCount: 2 } },
    });
    expect([...frameEnvelope({ kind: "read", state }, "binary").subarray(5)]).toEqual([...toBinary(SubscribeDirectMessagesResponseSchema, response)]);
    expect(JSON.parse(frameEnvelope({ kind: "read", state }, "json").subarray(5).toString())).toEqual({
      read: { withUserId: "8", lastReadMessageId: "123", unreadCount: 2 },
    });
    expect(rpcMessageEncodings()).toBe(before);
  });

  it("encode a typing frame like connect-node would for either subscribe response (binary and JSON), once per frame object", () => {
    const before = rpcMessageEncodings();
    const frame = { kind: "typing", typing: { channel: { kind: "room", id: "9" }, typistId: "4", typistName: "dora", untilMs: 1_700_000_006_000, stopped: false } } as const;
    const value = { channel: { case: "roomId", value: "9" }, user: { userId: "4", username: "dora" }, until: { seconds: 1_700_000_006n } } as const;
    const asRoom = toBinary(SubscribeRoomResponseSchema, create(SubscribeRoomResponseSchema, { frame: { case: "typing", value } }));
    const asDirect = toBinary(SubscribeDirectMessagesResponseSchema, create(SubscribeDirectMessagesResponseSchema, { frame: { case: "typing", value } }));
    expect([...asRoom]).toEqual([...asDirect]);
    const binary = frameEnvelope(frame, "binary");
    expect([...binary.subarray(5)]).toEqual([...asRoom]);
    // Cached on the frame object, as messages are: every stream it reaches shares the bytes.
    expect(frameEnvelope(frame, "binary")).toBe(binary);
    expect(JSON.parse(frameEnvelope(frame, "json").subarray(5).toString())).toEqual({
      typing: { roomId: "9", user: { userId: "4", username: "dora" }, until: "2023-11-14T22:13:26Z" },
    });
    expect(rpcMessageEncodings()).toBe(before);
  });
});

describe("stream ends", () => {
  const error = new ConnectError("signed out: this token was revoked", Code.Unauthenticated);

  it("gRPC: status in trailers", () => {
    expect(streamEnd("grpc", undefined)).toEqual({ trailers: { "grpc-status": "0" } });
    expect(streamEnd("grpc", error)).toEqual({ trailers: { "grpc-status": "16", "grpc-message": "signed%20out%3A%20this%20token%20was%20revoked" } });
  });

  it("gRPC-Web: a trailer envelope", () => {
    const body = Buffer.from(streamEnd("grpc-web", undefined).body!);
    expect(body[0]).toBe(0x80);
    expect(body.subarray(5).toString()).toBe("grpc-status: 0\r\n");
  });

  it("Connect: an end-stream envelope", () => {
    expect(Buffer.from(streamEnd("connect", undefined).body!).subarray(5).toString()).toBe("{}");
    const body = Buffer.from(streamEnd("connect", error).body!);
    expect(body[0]).toBe(0x02);
    expect(JSON.parse(body.subarray(5).toString())).toEqual({ error: { code: "unauthenticated", message: "signed out: this token was revoked" } });
  });
});

describe("the encoding cache", () => {
  const message: ChatMessage = { id: "9", channel: { kind: "room", id: "7" }, senderId: "1", senderName: "bob", text: "hi", createdAtMs: 1_700_000_000_000, clientMessageId: "" };

  it("encodes a message's JSON once for SSE and WebSocket together, and keeps its counters to itself", () => {
    const mine = new MessageEncodings();
    const other = new MessageEncodings();
    const sse = mine.sseEvent(message);
    const ws = mine.wsFrame(message);
    expect(mine.sseEvent(message)).toBe(sse);
    expect(mine.wsFrame(message)).toBe(ws);
    expect(sse.toString()).toBe(`id: 9\nevent: message\ndata: ${mine.json(message)}\n\n`);
    expect(ws.toString()).toBe(`{"type":"message","message":${mine.json(message)}}`);
    mine.rpcEnvelope({ kind: "message", message }, "binary");
    expect([mine.jsonEncodings, mine.rpcEncodings]).toEqual([1, 1]);
    expect([other.jsonEncodings, other.rpcEncodings]).toEqual([0, 0]);
  });
});
