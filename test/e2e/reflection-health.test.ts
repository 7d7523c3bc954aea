import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client, ConnectRouter } from "@connectrpc/connect";
import { Code, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { HealthStatus, registerHealth } from "../../src/edges/ops/health.js";
import { registerReflection } from "../../src/edges/ops/reflection.js";
import { findGrpcurl } from "../support/grpcurl.js";

const run = promisify(execFile);

type TestServer = {
  address: string;
  status: HealthStatus;
  /** Aborts every handler's `ctx.signal`, as the composition root does on SIGTERM. */
  shutdownHandlers(): void;
  close(): Promise<void>;
};

/** A real h2c server on 127.0.0.1:0 with stub chat services, health and reflection. */
async function startServer(): Promise<TestServer> {
  const status = new HealthStatus();
  const routes = (router: ConnectRouter): void => {
    router.service(AuthService, { signUp: (req) => ({ user: { userId: "42", username: req.username } }) });
    router.service(RoomService, {});
    router.service(MessageService, {});
    registerHealth(router, status);
    registerReflection(router, [AuthService, RoomService, MessageService, Health]);
  };
  const shutdown = new AbortController();
  const server = http2.createServer(connectNodeAdapter({ routes, shutdownSignal: shutdown.signal }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    status,
    shutdownHandlers: () => shutdown.abort(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("reflection and health over a real server", () => {
  let grpcurl: string;
  let server: TestServer;
  const grpcurlOut = async (...args: string[]): Promise<string> =>
    (await run(grpcurl, ["-plaintext", "-max-time", "20", ...args], { timeout: 30_000 })).stdout;

  beforeAll(async () => {
    grpcurl = findGrpcurl();
    server = await startServer();
  });
  afterAll(async () => server?.close());

  it("grpcurl lists every service", async () => {
    const out = await grpcurlOut(server.address, "list");
    expect(out.trim().split("\n")).toEqual([
      "chat.v1.AuthService",
      "chat.v1.MessageService",
      "chat.v1.RoomService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("grpcurl describes a service with its options", async () => {
    const out = await grpcurlOut(server.address, "describe", "chat.v1.MessageService");
    expect(out).toContain("service MessageService {");
    expect(out).toContain("rpc PostMessage ( .chat.v1.PostMessageRequest ) returns ( .chat.v1.PostMessageResponse )");
    expect(out).toContain("returns ( stream .chat.v1.SubscribeRoomResponse )");
    expect(out).toContain("option (.google.api.http)");
  });

  it("grpcurl describes messages, fields and extensions from imported files", async () => {
    const message = await grpcurlOut(server.address, "describe", "chat.v1.Message");
    expect(message).toContain("message Message {");
    expect(message).toContain(".google.protobuf.Timestamp created_at = 6;");
    const field = await grpcurlOut(server.address, "describe", "chat.v1.Message.room_id");
    expect(field).toContain("string room_id = 2;");
    const rules = await grpcurlOut(server.address, "describe", "chat.v1.SignUpRequest");
    expect(rules).toContain("(.buf.validate.field)");
    const ext = await grpcurlOut(server.address, "describe", "buf.validate.field");
    expect(ext).toContain("extend .google.protobuf.FieldOptions");
  });

  it("grpcurl calls Health/Check", async () => {
    const out = await grpcurlOut("-d", "{}", server.address, "grpc.health.v1.Health/Check");
    expect(JSON.parse(out)).toEqual({ status: "SERVING" });
  });

  it("grpcurl calls a unary chat RPC with JSON built from reflected descriptors", async () => {
    const body = JSON.stringify({ username: "alice", password: "correct horse" });
    const out = await grpcurlOut("-d", body, server.address, "chat.v1.AuthService/SignUp");
    expect(JSON.parse(out)).toEqual({ user: { userId: "42", username: "alice" } });
  });

  it("grpcurl reports an unknown symbol", async () => {
    const failure = grpcurlOut(server.address, "describe", "chat.v1.Nope");
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringContaining("Symbol not found") });
  });
});

describe("reflection protocol details", () => {
  let server: TestServer;
  let transport: ReturnType<typeof createGrpcTransport>;
  beforeAll(async () => {
    server = await startServer();
    transport = createGrpcTransport({ baseUrl: `http://${server.address}` });
  });
  afterAll(async () => server?.close());

  /** Sends `requests` on one v1 stream and collects one response per request. */
  async function ask(requests: MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"][]) {
    const client = createClient(ServerReflection, transport);
    const responses = [];
    async function* input() {
      for (const messageRequest of requests) yield { host: "h", messageRequest };
    }
    for await (const res of client.serverReflectionInfo(input())) responses.push(res);
    // One answer per request, no more, no fewer: destructuring below must never read a missing answer.
    expect(responses).toHaveLength(requests.length);
    return responses;
  }

  it("answers unknown names with NOT_FOUND and keeps the stream open", async () => {
    const [missing, listed] = await ask([
      { case: "fileContainingSymbol", value: "chat.v1.Nope" },
      { case: "listServices", value: "" },
    ]);
    expect(missing?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(listed?.messageResponse.case).toBe("listServicesResponse");
    expect(missing?.validHost).toBe("h");
  });

  it("sends a file with its imports once per stream", async () => {
    const [first, again] = await ask([
      { case: "fileByFilename", value: "chat/v1/auth.proto" },
      { case: "fileContainingSymbol", value: "chat.v1.RoomService" },
    ]);
    expect(first?.messageResponse.case).toBe("fileDescriptorResponse");
    const count = (r: typeof first): number =>
      r?.messageResponse.case === "fileDescriptorResponse" ? r.messageResponse.value.fileDescriptorProto.length : -1;
    expect(count(first)).toBeGreaterThanOrEqual(7); // auth, validate, rest, types, annotations, http, descriptor, …
    expect(count(again)).toBe(1); // room.proto; its imports were already sent
    const [dep] = await ask([{ case: "fileByFilename", value: "google/api/http.proto" }]);
    expect(count(dep)).toBe(1);
  });

  it("resolves extensions by extendee and number", async () => {
    const [byNumber, numbers] = await ask([
      {
        case: "fileContainingExtension",
        value: { containingType: "google.protobuf.FieldOptions", extensionNumber: 1159 }, // buf.validate.field
      },
      { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" },
    ]);
    expect(byNumber?.messageResponse.case).toBe("fileDescriptorResponse");
    expect(numbers?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "google.protobuf.MethodOptions", extensionNumber: [50501, 72295728] },
    });
  });

  it("serves v1alpha too", async () => {
    const client = createClient(ServerReflectionV1alpha, transport);
    async function* input() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    const responses = [];
    for await (const res of client.serverReflectionInfo(input())) responses.push(res);
    // Exactly one answer, listing the services (a stream that ends with no frame fails).
    expect(responses).toHaveLength(1);
    const answer = responses[0]!.messageResponse;
    expect(answer.case).toBe("listServicesResponse");
    const names = answer.case === "listServicesResponse" ? answer.value.service.map((s) => s.name) : [];
    expect(names).toContain("chat.v1.MessageService");
    expect(names).toContain("grpc.reflection.v1alpha.ServerReflection");
  });
});

describe("health over a real server", () => {
  let server: TestServer;
  let health: Client<typeof Health>;
  beforeEach(async () => {
    server = await startServer();
    health = createClient(Health, createGrpcTransport({ baseUrl: `http://${server.address}` }));
  });
  afterEach(async () => server.close());

  it("Watch sends SERVING, then NOT_SERVING after shutdown() and stays open; ends UNAVAILABLE when the handlers end", async () => {
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of health.watch({ service: "" })) {
        seen.push(res.status);
        if (seen.length === 1) server.status.shutdown();
        // Still open after NOT_SERVING: the drain's grace period. Its end aborts the handlers.
        if (seen.length === 2) server.shutdownHandlers();
      }
    })();
    await expect(watching).rejects.toMatchObject({ code: Code.Unavailable, rawMessage: "server is stopping: reconnect" });
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("Watch reports SERVICE_UNKNOWN, then the status once it is set", async () => {
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of health.watch({ service: "chat.v1.RoomService" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) server.status.set("chat.v1.RoomService", "SERVING");
        if (seen.length === 2) abort.abort();
      }
    })();
    await expect(watching).rejects.toMatchObject({ code: Code.Canceled });
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING]);
  });

  it("Watch ends when the server aborts its handlers", async () => {
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of health.watch({ service: "" })) {
        seen.push(res.status);
        server.shutdownHandlers();
      }
    })();
    await watching; // the handler returns, so the stream ends without an error
    expect(seen).toEqual([ServingStatus.SERVING]);
  });

  it("Check answers NOT_FOUND for an unknown service and NOT_SERVING after shutdown()", async () => {
    await expect(health.check({ service: "nope" })).rejects.toMatchObject({ code: Code.NotFound });
    server.status.shutdown();
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
  });
});

describe("HealthStatus.watch", () => {
  it("ends when the signal aborts while waiting for a change", async () => {
    const status = new HealthStatus();
    const abort = new AbortController();
    const watch = status.watch("", abort.signal);
    expect((await watch.next()).value).toBe(ServingStatus.SERVING);
    const pending = watch.next();
    abort.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
