/**
 * The gRPC unary fast path (src/edges/rpc/fast/grpc-unary-path.ts): grpc-js calls go through it (its
 * counter shows it), deadlines included; its answers — successes and every kind of refusal —
 * are byte for byte what connect-node writes for the same call; and what it does not serve
 * (malformed bodies, compression) goes to connect-node, which answers as before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { MessageService, PostMessageRequestSchema } from "../../gen/chat/v1/message_pb.js";
import { GetMeRequestSchema } from "../../gen/chat/v1/auth_pb.js";
import { CreateRoomRequestSchema, RoomService } from "../../gen/chat/v1/room_pb.js";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, unary } from "../support/grpc-js-client.js";
import { envelope } from "../support/raw-rpc.js";
import { rawH2 } from "../support/raw-h2.js";

async function fastCalls(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^parley_grpc_fast_unary_calls_total\{[^}]*\} (\d+)/gm)) total += Number(match[1]);
  return total;
}

/** The same request through the fast path, and through connect-node (a declared request encoding it leaves alone). */
function bothWays(url: string, path: string, token: string | undefined, body: Uint8Array) {
  const headers = { "content-type": "application/grpc", te: "trailers", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  // A gzip-declared request whose envelope is not compressed (flag 0) is valid gRPC; an accept of
  // identity keeps the reply uncompressed. The fast path declines any declared compression.
  const viaConnect = { ...headers, "grpc-encoding": "gzip", "grpc-accept-encoding": "identity" };
  return Promise.all([rawH2(url, path, headers, body), rawH2(url, path, viaConnect, body)]);
}

function request<T extends DescMessage>(schema: T, init: MessageInitShape<T>): Buffer {
  return envelope(toBinary(schema, create(schema, init)));
}

describe("gRPC unary fast path", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("serves grpc-js calls, with and without a deadline, and they take effect", async () => {
    const { token } = await newUser(server.url);
    const address = server.url.replace("http://", "");
    const rooms = grpcJsClient(RoomService, address);
    const messages = grpcJsClient(MessageService, address);
    const before = await fastCalls(server.url);
    const { room } = await unary<{ room: { roomId: string } }>(rooms, "createRoom", { name: uniqueName("unary") }, bearer(token));
    const posted = await unary<{ message: { text: string } }>(messages, "postMessage", { roomId: room.roomId, text: "hi" }, bearer(token));
    const withDeadline = await new Promise<{ message: { text: string } }>((resolve, reject) =>
      (messages["postMessage"] as (...a: unknown[]) => void)(
        { roomId: room.roomId, text: "again" },
        bearer(token),
        { deadline: Date.now() + 10_000 },
        (err: grpc.ServiceError | null, res: { message: { text: string } }) => (err ? reject(err) : resolve(res)),
      ),
    );
    expect([posted.message.text, withDeadline.message.text]).toEqual(["hi", "again"]);
    const listed = await unary<{ messages: Array<{ text: string }> }>(messages, "listMessages", { roomId: room.roomId }, bearer(token));
    expect(listed.messages.map((m) => m.text)).toEqual(["again", "hi"]);
    expect((await fastCalls(server.url)) - before).toBe(4);
    rooms.close();
    messages.close();
  });

  it("answers byte for byte as connect-node: success, unauthenticated, invalid, not found, already exists", async () => {
    const { token } = await newUser(server.url);
    const taken = uniqueName("taken");
    await rawH2(server.url, "/chat.v1.RoomService/CreateRoom", { "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${token}` }, request(CreateRoomRequestSchema, { name: taken }));
    const cases = [
      { path: "/chat.v1.AuthService/GetMe", token, body: request(GetMeRequestSchema, {}), status: "0" },
      { path: "/chat.v1.AuthService/GetMe", token: undefined, body: request(GetMeRequestSchema, {}), status: "16" },
      { path: "/chat.v1.AuthService/GetMe", token: "v4.public.forged", body: request(GetMeRequestSchema, {}), status: "16" },
      { path: "/chat.v1.MessageService/PostMessage", token, body: request(PostMessageRequestSchema, { roomId: "1", text: "" }), status: "3" },
      { path: "/chat.v1.MessageService/PostMessage", token, body: request(PostMessageRequestSchema, { roomId: "123456789", text: "x" }), status: "5" },
      { path: "/chat.v1.RoomService/CreateRoom", token, body: request(CreateRoomRequestSchema, { name: taken }), status: "6" },
    ];
    for (const c of cases) {
      const before = await fastCalls(server.url);
      const [fast, slow] = await bothWays(server.url, c.path, c.token, c.body);
      expect((await fastCalls(server.url)) - before, c.path).toBe(1); // only the first went the fast way
      expect(fast.trailers["grpc-status"], `${c.path} ${c.status}`).toBe(c.status);
      expect(fast, `${c.path} ${c.status}`).toEqual(slow);
    }
  });

  it("leaves malformed bodies to connect-node, which refuses them as before", async () => {
    const { token } = await newUser(server.url);
    const headers = { "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${token}` };
    const good = request(GetMeRequestSchema, {});
    const truncated = good.subarray(0, 3);
    const trailing = Buffer.concat([good, Buffer.from([1])]);
    const notProtobuf = envelope(Buffer.from([0xff, 0xff, 0xff]));
    const before = await fastCalls(server.url);
    for (const body of [truncated, trailing, notProtobuf]) {
      const reply = await rawH2(server.url, "/chat.v1.AuthService/GetMe", headers, body);
      expect(reply.status).toBe(200);
      expect(reply.trailers["grpc-status"], body.toString("hex")).not.toBe("0");
    }
    expect(await fastCalls(server.url)).toBe(before);
  });
});
