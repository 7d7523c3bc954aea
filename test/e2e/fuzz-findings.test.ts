/**
 * Findings of the fuzz suites that issue #11 did not list, pinned as deterministic tests:
 * - a Host header (or :authority) that is not a URL authority, e.g. "127.0.0.1:99999", on any
 *   Connect / gRPC-Web request: connect-node's request conversion throws "Invalid URL" inside the
 *   request handler and the process dies (unauthenticated, one request);
 * - a deadline longer than a Node timer can hold (2^31-1 ms ≈ 24.8 days, e.g. a 30-day deadline
 *   on a subscription): the timer fires after 1 ms, so the stream ends at once with
 *   DEADLINE_EXCEEDED;
 * - a resume cursor with leading zeros (`since=0<id>`, which the proto pattern accepts): the live
 *   stream compares ids by length first (compareIds), so every live message is silently dropped;
 * - a gRPC or gRPC-Web JSON call whose message is a JSON string holding an unpaired surrogate
 *   (`"\ud800"`): the error's grpc-message is percent-encoded with encodeURIComponent, which throws
 *   URIError on it, and the call is never answered — the stream stays open, nothing is logged.
 * Each test accepts a clean refusal (4xx / INVALID_ARGUMENT) or correct service, nothing else.
 */
import { connect as tcpConnect } from "node:net";
import { connect as h2connect } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { SubscribeRoomRequestSchema } from "../../gen/chat/v1/message_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { WebSocket } from "ws";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
let owner: Awaited<ReturnType<typeof newUser>>;
let roomId: string;

// A test that kills the server (today) must not take the next ones with it: each gets a live one.
beforeEach(async () => {
  if (server && (await healthy())) return;
  await server?.kill();
  server = await startServer();
  owner = await newUser(server.url);
  roomId = (await owner.clients.rooms.createRoom({ name: uniqueName("findings") })).room!.roomId;
});
afterAll(async () => {
  await server?.stop();
});

/** One raw HTTP/1.1 request; resolves with the status (0 when the connection closed without one). */
function rawStatus(request: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = tcpConnect(server.port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.write(request);
  });
}

async function healthy(): Promise<boolean> {
  return fetch(`${server.url}/healthz`).then((res) => res.status === 200, () => false);
}

describe("a Host that is not a URL authority", () => {
  for (const host of ["127.0.0.1:99999", "a b", "["]) {
    it(`Host: ${JSON.stringify(host)} on a Connect call is refused with a 4xx and the server stays up`, async () => {
      const body = "{}";
      const status = await rawStatus(
        `POST /chat.v1.RoomService/ListRooms HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      expect(await healthy(), `the server died on Host: ${host}\n${server.output().split("\n").filter((l) => /Error/.test(l)).slice(-3).join("\n")}`).toBe(true);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    });
  }

  it("an h2 :authority of 127.0.0.1:99999 on a gRPC call is refused and the server stays up", async () => {
    const session = h2connect(server.url);
    session.on("error", () => undefined);
    const answer = await new Promise<string>((resolve) => {
      const stream = session.request({ ":method": "POST", ":path": "/chat.v1.RoomService/ListRooms", ":authority": "127.0.0.1:99999", "content-type": "application/grpc", te: "trailers" });
      let status = "";
      stream.on("response", (h) => (status = `${h[":status"]} ${h["grpc-status"] ?? ""}`));
      stream.on("trailers", (t) => (status += ` ${t["grpc-status"] ?? ""}`));
      stream.on("error", () => undefined);
      stream.resume(); // a refusal may carry a body: read it, or the stream never closes
      stream.on("close", () => resolve(status || `reset ${stream.rstCode}`));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    session.close();
    expect(await healthy(), `the server died on :authority 127.0.0.1:99999 (answer: ${answer})`).toBe(true);
    expect(answer).not.toMatch(/^5|\b13\b/);
  });
});

describe("a deadline longer than a timer can hold", () => {
  it("a gRPC subscription with a 30-day deadline is refused with INVALID_ARGUMENT, not ended at once", async () => {
    // Raw h2: a client library would arm its own 30-day timer, which overflows in the client too.
    const session = h2connect(server.url);
    session.on("error", () => undefined);
    const request = create(SubscribeRoomRequestSchema, { roomId });
    const grpcStatus = await new Promise<string>((resolve) => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/chat.v1.MessageService/SubscribeRoom",
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": "720H",
        authorization: `Bearer ${owner.token}`,
      });
      let status = "";
      const read = (headers: Record<string, unknown>) => (status ||= String(headers["grpc-status"] ?? ""));
      stream.on("response", read);
      stream.on("trailers", read);
      stream.on("error", () => undefined);
      stream.resume();
      stream.on("close", () => resolve(status || "none"));
      stream.end(Buffer.from(encodeEnvelope(0, toBinary(SubscribeRoomRequestSchema, request))));
    });
    session.destroy();
    expect(grpcStatus).toBe(String(Code.InvalidArgument));
  });
});

describe("a resume cursor with leading zeros", () => {
  it("is refused with 400, or the stream delivers live messages after it", async () => {
    const { message } = await owner.clients.messages.postMessage({ roomId, text: `anchor ${uniqueName()}` });
    const since = `0${message!.messageId}`;
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/room/${roomId}/subscribe?since=${since}`, { headers: { authorization: `Bearer ${owner.token}` } });
    const frames: { type: string; message?: { text: string } }[] = [];
    const outcome = new Promise<string>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.on("message", (data) => {
        frames.push(JSON.parse(String(data)) as (typeof frames)[number]);
        if (frames.at(-1)!.type === "ready") resolve("ready");
      });
      ws.once("error", () => undefined);
    });
    const opened = await outcome;
    if (opened !== "ready") {
      expect(opened).toBe("refused 400");
      return;
    }
    const text = `live after a zero-padded since ${uniqueName()}`;
    await owner.clients.messages.postMessage({ roomId, text });
    // The live message, or (when it is dropped) the end of a deadline: whichever comes first.
    const delivered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const check = () => {
        if (frames.some((f) => f.type === "message" && f.message?.text === text)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      ws.on("message", check);
      check();
    });
    ws.close();
    expect(delivered, `since=${since} was accepted, but the message posted after Ready never arrived (frames: ${frames.map((f) => f.type).join(", ")})`).toBe(true);
  });
});

describe("an error message that cannot be percent-encoded", () => {
  for (const contentType of ["application/grpc+json", "application/grpc-web+json"]) {
    it(`${contentType}: a call whose message is "\\ud800" is answered (INVALID_ARGUMENT), not left open`, async () => {
      const session = h2connect(server.url);
      session.on("error", () => undefined);
      const answer = await new Promise<string>((resolve) => {
        const stream = session.request({ ":method": "POST", ":path": "/chat.v1.RoomService/GetRoom", "content-type": contentType, te: "trailers", authorization: `Bearer ${owner.token}` });
        let grpcStatus = "";
        const read = (headers: Record<string, unknown>) => (grpcStatus ||= String(headers["grpc-status"] ?? ""));
        stream.on("response", read);
        stream.on("trailers", read);
        // gRPC-Web carries its status in a trailer frame at the end of the body.
        stream.on("data", (chunk: Buffer) => (grpcStatus ||= /grpc-status: ?(\d+)/.exec(chunk.toString("latin1"))?.[1] ?? ""));
        stream.on("error", () => undefined);
        // A hang check, not a speed check: a refusal takes milliseconds.
        const timer = setTimeout(() => resolve("no answer within 10 s"), 10_000);
        stream.on("close", () => {
          clearTimeout(timer);
          resolve(`grpc-status ${grpcStatus || "none"}`);
        });
        stream.end(Buffer.from(encodeEnvelope(0, Buffer.from('"\\ud800"'))));
      });
      session.destroy();
      expect(answer).toBe("grpc-status 3");
    });
  }
});
