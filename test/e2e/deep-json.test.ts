/**
 * Bounded parsing: JSON nested deeper than 64 levels is refused before any parser or walk sees
 * it — 400 invalid_argument on REST (unauthenticated sign-in included), INVALID_ARGUMENT in
 * every RPC protocol that carries JSON (Connect unary and streaming, gRPC-JSON), even when the
 * nesting hides in a field connect-node would otherwise ignore — while the server stays up, stores
 * nothing and logs nothing at error level. (/ws frames: ws-protocol-errors.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, uniqueName } from "../support/clients.js";
import { rawH2 } from "../support/raw-h2.js";
import { envelope, rawResponse } from "../support/raw-rpc.js";
import { startServer, type TestServer } from "../support/server.js";

let server: TestServer;
let token: string;
let roomId: string;

beforeAll(async () => {
  server = await startServer({ env: { MAX_BODY_BYTES: "65536" } });
  const user = await newUser(server.url);
  token = user.token;
  roomId = (await user.clients.rooms.createRoom({ name: uniqueName("deep") })).room!.roomId;
});
afterAll(async () => {
  await server?.stop();
});

const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
const TOO_DEEP = { code: "invalid_argument", message: expect.stringContaining("more than 64 levels deep") };

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe.each([5_000, 30_000])("JSON nested %i levels", (levels) => {
  it("is 400 on REST, signed in or not", async () => {
    const auth = { authorization: `Bearer ${token}` };
    expect(await post("/auth/signin", `{"username":"someone","password":${nested(levels)}}`)).toEqual({ status: 400, body: TOO_DEEP });
    expect(await post("/auth/signup", `{"username":${nested(levels)},"password":"long enough pw"}`)).toEqual({ status: 400, body: TOO_DEEP });
    expect(await post("/rooms", `{"name":${nested(levels)}}`, auth)).toEqual({ status: 400, body: TOO_DEEP });
    expect(await post(`/room/${roomId}/messages`, `{"text":"x","extra":${nested(levels)}}`, auth)).toEqual({ status: 400, body: TOO_DEEP });
  });

  it("is INVALID_ARGUMENT on Connect unary JSON, even in a field connect-node would ignore", async () => {
    const name = uniqueName("hidden");
    const headers = { authorization: `Bearer ${token}` };
    expect(await post("/chat.v1.RoomService/CreateRoom", `{"name":"${name}","ignored":${nested(levels)}}`, headers)).toEqual({ status: 400, body: TOO_DEEP });
    expect(await post("/chat.v1.AuthService/SignIn", `{"username":${nested(levels)}}`)).toEqual({ status: 400, body: TOO_DEEP });
    const rooms = await fetch(`${server.url}/rooms?limit=1000`, { headers });
    expect(JSON.stringify(await rooms.json())).not.toContain(name);
  });

  it("is INVALID_ARGUMENT on Connect streaming JSON and gRPC-JSON", async () => {
    const message = Buffer.from(`{"roomId":"${roomId}","ignored":${nested(levels)}}`);
    const connect = await rawResponse(server.url, { "content-type": "application/connect+json", authorization: `Bearer ${token}` }, envelope(message));
    expect(connect.body).toContain('"code":"invalid_argument","message":"request message nests objects and arrays more than 64 levels deep"');
    const grpc = await rawH2(server.url, "/chat.v1.RoomService/CreateRoom", { "content-type": "application/grpc+json", te: "trailers", authorization: `Bearer ${token}` }, envelope(Buffer.from(`{"name":"x","ignored":${nested(levels)}}`)));
    expect(grpc.trailers["grpc-status"]).toBe("3");
    expect(decodeURIComponent(grpc.trailers["grpc-message"] ?? "")).toContain("more than 64 levels deep");
  });
});

describe("the limit itself", () => {
  it("accepts 64 levels and refuses 65 (REST)", async () => {
    const auth = { authorization: `Bearer ${token}` };
    // An unknown field: the depth passes, then decoding refuses the field by name.
    const at64 = await post("/rooms", `{"name":"x","deep":${nested(63)}}`, auth);
    expect(at64).toEqual({ status: 400, body: { code: "invalid_argument", message: expect.stringContaining("deep") } });
    expect((at64.body as { message: string }).message).not.toContain("levels deep");
    expect(await post("/rooms", `{"name":"x","deep":${nested(64)}}`, auth)).toEqual({ status: 400, body: TOO_DEEP });
  });
});

describe("after all of that", () => {
  it("is up and logged nothing at error level", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.output()).not.toMatch(/"level":(50|60)/);
  });
});
