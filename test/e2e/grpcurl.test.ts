/** grpcurl as a real outside client: list, describe and calls through server reflection alone. */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { findGrpcurl } from "../support/grpcurl.js";
import { uniqueName } from "../support/clients.js";

let server: TestServer;
let grpcurl: string;
beforeAll(async () => {
  grpcurl = findGrpcurl();
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

function run(...args: string[]): string {
  return execFileSync(grpcurl, ["-plaintext", ...args], { encoding: "utf8", timeout: 20_000 });
}

describe("grpcurl against the real server", () => {
  it("lists and describes the services", () => {
    const list = run(`127.0.0.1:${server.port}`, "list").trim().split("\n");
    expect(list).toEqual(expect.arrayContaining(["chat.v1.AuthService", "chat.v1.MessageService", "chat.v1.RoomService", "grpc.health.v1.Health"]));
    expect(run(`127.0.0.1:${server.port}`, "describe", "chat.v1.RoomService")).toContain("rpc CreateRoom");
    expect(run(`127.0.0.1:${server.port}`, "describe", "chat.v1.Message")).toContain("message_id");
  });

  it("signs up, signs in and creates a room", () => {
    const address = `127.0.0.1:${server.port}`;
    const username = uniqueName("curl");
    const credentials = JSON.stringify({ username, password: "grpcurl secret" });
    expect(run("-d", credentials, address, "chat.v1.AuthService/SignUp")).toContain(username);
    const signIn = JSON.parse(run("-d", credentials, address, "chat.v1.AuthService/SignIn")) as { accessToken: string };
    const created = JSON.parse(
      run("-H", `authorization: Bearer ${signIn.accessToken}`, "-d", JSON.stringify({ name: "grpcurl room " + username }), address, "chat.v1.RoomService/CreateRoom"),
    ) as { room: { roomId: string } };
    expect(created.room.roomId).toMatch(/^[0-9]+$/);
    expect(run("-d", "{}", address, "grpc.health.v1.Health/Check")).toContain("SERVING");
  });
});
