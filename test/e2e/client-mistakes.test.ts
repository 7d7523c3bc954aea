/**
 * Client mistakes are 4xx / INVALID_ARGUMENT, never a server fault: ids outside
 * 1..9223372036854775807 (the store's int64) on every edge — REST, Connect, grpc-js, /ws —
 * malformed protobuf and envelope flags a request never carries, over gRPC (fast paths and
 * connect-node), gRPC-Web and Connect, compressed or not; a request without a Host; a client
 * resetting its HTTP/2 stream with an error code. Each gets a clear message (or none, the
 * client being gone), and the server logs none of them at error level.
 */
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { connect as tcpConnect } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageService, SubscribeRoomRequestSchema } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { type ChatClients, newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, serverStream, unary } from "../support/grpc-js-client.js";
import { rawH2 } from "../support/raw-h2.js";
import { envelope, rawResponse } from "../support/raw-rpc.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
let token: string;
let clients: ChatClients;
let roomId: string;

beforeAll(async () => {
  server = await startServer();
  const user = await newUser(server.url);
  token = user.token;
  clients = user.clients;
  roomId = (await clients.rooms.createRoom({ name: uniqueName("mistakes") })).room!.roomId;
});
afterAll(async () => {
  await server?.stop();
});

const INT64_MAX = "9223372036854775807";
const OVER = ["9223372036854775808", "9999999999999999999", "99999999999999999999"];

async function get(path: string) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { code: string; message: string } };
}

describe("ids outside 1..9223372036854775807", () => {
  it("are 400 on REST: path, ?with=, cursors and a subscribe's since", async () => {
    for (const id of [...OVER, "0", "007"]) {
      expect(await get(`/rooms/${id}`), id).toEqual({ status: 400, body: { code: "invalid_argument", message: expect.stringMatching(/^room_id: /) } });
      expect((await get(`/me/messages?with=${id}`)).status, id).toBe(400);
      expect((await get(`/room/${id}/messages`)).status, id).toBe(400);
    }
    for (const id of OVER) {
      expect((await get(`/room/${roomId}/messages?before=${id}`)).status, id).toBe(400);
      expect((await get(`/room/${roomId}/messages?after=${id}`)).status, id).toBe(400);
      expect((await get(`/me/messages?after=${id}`)).status, id).toBe(400);
      expect((await get(`/room/${roomId}/subscribe?since=${id}`)).status, id).toBe(400);
    }
    expect(await get("/rooms/9223372036854775808")).toEqual({ status: 400, body: { code: "invalid_argument", message: "room_id: must be at most 9223372036854775807 [int64_max]" } });
    expect((await get(`/rooms/${INT64_MAX}`)).status).toBe(404);
    expect((await get(`/room/${roomId}/messages?after=0&before=${INT64_MAX}`)).status).toBe(200);
  });

  it("are INVALID_ARGUMENT on Connect: a room, a DM's recipientUserId, a cursor", async () => {
    const code = (promise: Promise<unknown>) => promise.then(() => "ok", (error: unknown) => ConnectError.from(error).code);
    for (const id of OVER) {
      expect(await code(clients.rooms.getRoom({ roomId: id })), id).toBe(Code.InvalidArgument);
      expect(await code(clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: id }, text: "hi" })), id).toBe(Code.InvalidArgument);
      expect(await code(clients.messages.listDirectMessages({ withUserId: id })), id).toBe(Code.InvalidArgument);
      expect(await code(clients.messages.postMessage({ roomId: id, text: "hi" })), id).toBe(Code.InvalidArgument);
    }
  });

  it("are INVALID_ARGUMENT on grpc-js, unary and stream", async () => {
    const address = server.url.replace("http://", "");
    const rooms = grpcJsClient(RoomService, address);
    const messages = grpcJsClient(MessageService, address);
    try {
      for (const id of OVER) {
        const failed = await unary(rooms, "getRoom", { roomId: id }, bearer(token)).then(() => undefined, (error: grpc.ServiceError) => error);
        expect(failed?.code, id).toBe(grpc.status.INVALID_ARGUMENT);
        const stream = serverStream(messages, "subscribeRoom", { roomId, since: id }, bearer(token));
        const ended = await new Promise<grpc.ServiceError>((resolve) => {
          stream.on("data", () => undefined);
          stream.on("error", resolve);
        });
        expect(ended.code, id).toBe(grpc.status.INVALID_ARGUMENT);
      }
    } finally {
      rooms.close();
      messages.close();
    }
  });

  it("are error frames with invalid_argument on /ws, the socket staying open", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const frames: Record<string, unknown>[] = [];
    const waiting = new Map<string, (frame: Record<string, unknown>) => void>();
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      frames.push(frame);
      waiting.get(String(frame["ref"]))?.(frame);
    });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const ask = (frame: Record<string, unknown>) =>
      new Promise<Record<string, unknown>>((resolve) => {
        waiting.set(String(frame["ref"]), resolve);
        ws.send(JSON.stringify(frame));
      });
    const big = OVER[0]!;
    for (const frame of [
      { type: "subscribe", room_id: big, ref: "s" },
      { type: "subscribe", room_id: roomId, since: big, ref: "c" },
      { type: "post", room_id: big, text: "hi", ref: "p" },
      { type: "dm", to_user_id: big, text: "hi", ref: "d" },
    ]) {
      expect(await ask(frame), frame.ref).toMatchObject({ type: "error", code: "invalid_argument" });
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe("malformed request messages", () => {
  const grpcHeaders = () => ({ "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${token}` });
  const truncated = Buffer.from([0x0a, 0x05, 0x41]); // field 1, 5 bytes promised, 1 given
  const valid = Buffer.from([0x0a, 0x01, 0x41]); // name: "A"
  const flagged = (flags: number, data: Buffer) => Object.assign(envelope(data), { 0: flags });

  it("are INVALID_ARGUMENT over gRPC: unary and stream, plain and compressed, bad flags", async () => {
    const cases: [string, string, Record<string, string>, Buffer, RegExp][] = [
      ["unary, not protobuf", "/chat.v1.RoomService/CreateRoom", {}, envelope(truncated), /not valid protobuf/],
      ["unary, compressed flag without grpc-encoding", "/chat.v1.RoomService/CreateRoom", {}, flagged(1, valid), /compressed flag/],
      ["unary, gzip of not protobuf", "/chat.v1.RoomService/CreateRoom", { "grpc-encoding": "gzip" }, flagged(1, gzipSync(truncated)), /not valid protobuf/],
      ["unary, flag 0x02", "/chat.v1.RoomService/CreateRoom", {}, flagged(2, valid), /flags 0x02/],
      ["unary, flag 0x80", "/chat.v1.RoomService/CreateRoom", {}, flagged(0x80, valid), /flags 0x80/],
      ["stream, not protobuf", "/chat.v1.MessageService/SubscribeRoom", {}, envelope(truncated), /not valid protobuf/],
      ["stream, compressed flag without grpc-encoding", "/chat.v1.MessageService/SubscribeRoom", {}, flagged(1, valid), /compressed flag/],
      ["stream with a deadline (connect-node), not protobuf", "/chat.v1.MessageService/SubscribeRoom", { "grpc-timeout": "10S" }, envelope(truncated), /not valid protobuf/],
    ];
    for (const [name, path, headers, body, message] of cases) {
      const reply = await rawH2(server.url, path, { ...grpcHeaders(), ...headers }, body);
      expect(reply.trailers["grpc-status"], name).toBe("3");
      expect(decodeURIComponent(reply.trailers["grpc-message"] ?? ""), name).toMatch(message);
    }
  });

  it("are INVALID_ARGUMENT over gRPC-Web and Connect (unary 400, streams in their end frame)", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const web = await rawH2(server.url, "/chat.v1.RoomService/CreateRoom", { "content-type": "application/grpc-web+proto", ...auth }, flagged(1, valid));
    expect(web.body.toString("latin1")).toContain("grpc-status: 3");
    const unaryProto = await fetch(`${server.url}/chat.v1.RoomService/CreateRoom`, { method: "POST", headers: { "content-type": "application/proto", ...auth }, body: truncated });
    expect(unaryProto.status).toBe(400);
    expect(await unaryProto.json()).toEqual({ code: "invalid_argument", message: "request message is not valid protobuf: premature EOF" });
    const gzipped = await fetch(`${server.url}/chat.v1.RoomService/CreateRoom`, { method: "POST", headers: { "content-type": "application/proto", "content-encoding": "gzip", ...auth }, body: gzipSync(truncated) });
    expect(gzipped.status).toBe(400);
    for (const body of [flagged(1, valid), flagged(2, valid), envelope(truncated)]) {
      const stream = await rawResponse(server.url, { "content-type": "application/connect+proto", ...auth }, body);
      expect(stream.body, body.toString("hex")).toContain('"code":"invalid_argument"');
    }
  });
});

describe("a request without a Host", () => {
  it("is 400 on an RPC path (HTTP/1.0), and the server stays up", async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = tcpConnect(server.port, "127.0.0.1");
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("close", () => resolve(data));
      socket.on("error", () => undefined);
      socket.write("POST /chat.v1.AuthService/GetMe HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"invalid_argument"');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("a client that resets its stream with an HTTP/2 error code", () => {
  it("ends a connect-node stream with an info line, not an error (connect-node calls it INTERNAL)", async () => {
    const stream = (code: number) =>
      new Promise<void>((resolve, reject) => {
        const session = http2.connect(server.url);
        session.on("error", reject);
        const call = session.request({
          ":method": "POST",
          ":path": "/chat.v1.MessageService/SubscribeRoom",
          "content-type": "application/grpc",
          te: "trailers",
          authorization: `Bearer ${token}`,
          "grpc-timeout": "60S", // a deadline: connect-node serves it, not the fast path
        });
        call.on("error", () => undefined);
        call.once("data", () => call.close(code));
        call.once("close", () => {
          session.close();
          resolve();
        });
        call.end(envelope(toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId }))));
      });
    const ended = () => server.output().split("\n").filter((line) => line.includes('"procedure":"/chat.v1.MessageService/SubscribeRoom"')).length;
    const before = ended();
    for (const code of [http2.constants.NGHTTP2_INTERNAL_ERROR, http2.constants.NGHTTP2_PROTOCOL_ERROR, http2.constants.NGHTTP2_FLOW_CONTROL_ERROR]) {
      await stream(code);
    }
    await server.printed(() => ended() === before + 3);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});

describe("after all of that", () => {
  it("logged nothing at error level", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
