/**
 * WebSocket protocol violations against a real server (one process, WORKERS=1), written as raw
 * frames on a node:net socket after a real upgrade: an unmasked frame, invalid UTF-8, RSV bits,
 * unknown opcodes, bad close codes, fragmented control frames, a frame over MAX_BODY_BYTES, and
 * JSON nested too deeply on /ws. Each closes that socket with its code (1002, 1007, 1009) — on
 * the subscribe paths' sockets and on /ws alike — while a /ws socket and an SSE stream of other
 * users on the same process stay open and keep receiving, the edge's own handler logs each
 * violation at info, and nothing is logged at error level or above (a last-resort guard would).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBystanders, type Bystanders } from "../support/bystanders.js";
import { newUser, uniqueName } from "../support/clients.js";
import { closePayload, frame, OPCODE, rawWebSocket, type RawWebSocket } from "../support/raw-ws.js";
import { startServer, type TestServer } from "../support/server.js";

const MAX_BODY_BYTES = 65_536;

let server: TestServer;
let bystanders: Bystanders;
let token: string;
let roomId: string;

beforeAll(async () => {
  server = await startServer({ env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  bystanders = await openBystanders(server.url);
  const attacker = await newUser(server.url);
  token = attacker.token;
  roomId = (await attacker.clients.rooms.createRoom({ name: uniqueName("target") })).room!.roomId;
});
afterAll(async () => {
  bystanders?.close();
  await server?.stop();
});

const violationsLogged = () => server.output().split("\n").filter((line) => line.includes("the client broke the protocol")).length;
const errorLines = () => server.output().split("\n").filter((line) => /"level":(50|60)/.test(line));

/** An upgraded socket of either kind, ready for raw frames (a subscribe path's after its "ready" frame). */
async function open(kind: "/ws" | "subscribe path"): Promise<RawWebSocket> {
  const headers = { authorization: `Bearer ${token}` };
  if (kind === "/ws") return rawWebSocket(server.port, "/ws", headers);
  const socket = await rawWebSocket(server.port, `/room/${roomId}/subscribe`, headers);
  await socket.next((f) => f.opcode === OPCODE.text && f.payload.toString().includes('"ready"'));
  return socket;
}

const deepJson = (levels: number) => `{"type":"post","room_id":"1","text":${"[".repeat(levels)}${"]".repeat(levels)}}`;

const violations: [string, Buffer, number][] = [
  ["an unmasked frame (8 bytes)", frame({ opcode: OPCODE.text, payload: "hello!", masked: false }), 1002],
  ["text that is not UTF-8", frame({ opcode: OPCODE.text, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 1007],
  ["the RSV1 bit without an extension", frame({ opcode: OPCODE.text, payload: "{}", rsv: 0b100 }), 1002],
  ["the RSV3 bit", frame({ opcode: OPCODE.binary, payload: "x", rsv: 0b001 }), 1002],
  ["an unknown data opcode (3)", frame({ opcode: 3, payload: "x" }), 1002],
  ["an unknown control opcode (11)", frame({ opcode: 11 }), 1002],
  ["a close code that may not be sent (1005)", frame({ opcode: OPCODE.close, payload: closePayload(1005) }), 1002],
  ["an out-of-range close code (999)", frame({ opcode: OPCODE.close, payload: closePayload(999) }), 1002],
  ["a close reason that is not UTF-8", frame({ opcode: OPCODE.close, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) }), 1007],
  ["a fragmented ping", frame({ opcode: OPCODE.ping, fin: false }), 1002],
  ["a continuation with nothing to continue", frame({ opcode: OPCODE.continuation, payload: "x" }), 1002],
  ["a frame over MAX_BODY_BYTES (declared, never sent)", frame({ opcode: OPCODE.text, declaredLength: MAX_BODY_BYTES + 1 }), 1009],
];

describe.each(["/ws", "subscribe path"] as const)("protocol violations on a %s socket", (kind) => {
  it.each(violations)("%s closes that socket only", async (_name, bytes, code) => {
    const logged = violationsLogged();
    const socket = await open(kind);
    socket.write(bytes);
    expect((await socket.closed).code).toBe(code);
    await server.printed(() => violationsLogged() === logged + 1);
    await bystanders.check();
  });
});

describe("JSON nested too deeply on /ws", () => {
  it.each([5_000, 30_000])("a frame nested %i levels closes that socket with 1007", async (levels) => {
    const socket = await open("/ws");
    socket.write(frame({ opcode: OPCODE.text, payload: deepJson(levels) }));
    const closed = await socket.closed;
    expect(closed).toEqual({ code: 1007, reason: expect.stringContaining("more than 64 levels deep") });
    await bystanders.check();
  });

  it("accepts 64 levels and refuses 65", async () => {
    const socket = await open("/ws");
    socket.write(frame({ opcode: OPCODE.text, payload: `{"type":"unsubscribe","dms":true,"ref":"a","x":${"[".repeat(63)}${"]".repeat(63)}}` }));
    const answer = await socket.next((f) => f.opcode === OPCODE.text && f.payload.toString().includes('"ref":"a"'));
    expect(JSON.parse(answer.payload.toString())).toMatchObject({ type: "error", code: "invalid_argument" });
    socket.write(frame({ opcode: OPCODE.text, payload: `{"type":"unsubscribe","dms":true,"x":${"[".repeat(64)}${"]".repeat(64)}}` }));
    expect((await socket.closed).code).toBe(1007);
  });
});

describe("after all of that", () => {
  it("is the same process, up, its bystanders served, nothing logged at error level", async () => {
    await bystanders.check();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Every closed subscribe-path socket ended its stream: only the /ws bystander's subscription is open.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(/^parley_open_streams\{transport="ws"\} (\d+)/m.exec(metrics)?.[1]).toBe("1");
    expect(server.output()).not.toContain("worker died");
    expect(errorLines()).toEqual([]);
  });
});
