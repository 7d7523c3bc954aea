/**
 * WebSocket cases of the protocol fuzz: a real upgrade on `/ws` or a subscribe path (sometimes a
 * mutated one), then 1–5 frames drawn from what breaks WebSocket servers — unmasked frames, RSV
 * bits, unknown opcodes, lying or non-minimal lengths, fragmented or oversized control frames,
 * bad close codes, invalid UTF-8, frames past the payload limit, JSON nested thousands deep —
 * mixed with valid /ws protocol frames, then a clean close and a FIN.
 */
import { deepJson, randomJson, type Rng } from "./fuzz-random.js";
import { closePayload, encodeWsFrame, OP, upgradeRequest, type WsFrameSpec } from "./wire-ws.js";

export interface FuzzContext {
  readonly token: string;
  /** A room of the fuzz user's own (not the bystanders'). */
  readonly roomId: string;
  readonly userId: string;
  /** The server's MAX_BODY_BYTES (the WebSocket payload limit too). */
  readonly maxBodyBytes: number;
}

export interface WsCase {
  /** The upgrade request, as written. */
  readonly upgrade: Buffer;
  /** The frames after a 101, as written (the last one is a valid close). */
  readonly frames: readonly Buffer[];
  /** What the case does, for a failure report. */
  readonly description: string;
}

/** A /ws frame's JSON: valid requests of every type and broken ones. */
function protocolJson(rng: Rng, ctx: FuzzContext): string {
  const id = () => rng.pick([ctx.roomId, ctx.userId, "1", "0", "99999999999999999999", `0${ctx.roomId}`, "-1", "abc", "9223372036854775808"]);
  return rng.pick([
    () => JSON.stringify({ type: "subscribe", room_id: id(), ...(rng.chance(0.5) ? { since: id() } : {}), ref: rng.text(4) }),
    () => JSON.stringify({ type: "subscribe", dms: true, since: rng.chance(0.5) ? id() : "" }),
    () => JSON.stringify({ type: "unsubscribe", room_id: id() }),
    () => JSON.stringify({ type: "post", room_id: id(), text: rng.text(20) || "x", client_message_id: rng.pick(["", "k-1", rng.text(5)]) }),
    () => JSON.stringify({ type: "dm", [rng.pick(["to_user_id", "to_username"])]: id(), text: rng.text(10) || "y" }),
    () => randomJson(rng, 3),
    () => JSON.stringify({ type: rng.text(5) }),
  ])();
}

function invalidUtf8(rng: Rng): Buffer {
  return Buffer.concat([Buffer.from('{"type":"post","text":"'), Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]])), Buffer.from('"}')]);
}

/** One frame of the case, with a name for the report. */
function frame(rng: Rng, ctx: FuzzContext): { name: string; bytes: Buffer } {
  const mask = rng.bytes(4);
  const spec = (s: WsFrameSpec) => encodeWsFrame({ mask, ...s });
  const text = (payload: string | Buffer) => (typeof payload === "string" ? Buffer.from(payload) : payload);
  const kinds: [number, () => { name: string; bytes: Buffer }][] = [
    [6, () => ({ name: "valid text frame", bytes: spec({ opcode: OP.text, payload: text(protocolJson(rng, ctx)) }) })],
    [2, () => {
      const depth = rng.range(1_000, Math.min(30_000, Math.floor(ctx.maxBodyBytes / 8)));
      return { name: `JSON nested ${depth} deep`, bytes: spec({ opcode: OP.text, payload: text(rng.chance(0.5) ? `{"type":"post","room_id":"${ctx.roomId}","text":${deepJson(rng, depth)}}` : deepJson(rng, depth)) }) };
    }],
    [2, () => ({ name: "invalid UTF-8 text", bytes: spec({ opcode: OP.text, payload: invalidUtf8(rng) }) })],
    [2, () => ({ name: "unmasked frame", bytes: spec({ opcode: rng.pick([OP.text, OP.binary, OP.ping]), masked: false, payload: text(protocolJson(rng, ctx)) }) })],
    [2, () => ({ name: "RSV bits", bytes: spec({ opcode: OP.text, rsv: rng.range(1, 7), payload: text(protocolJson(rng, ctx)) }) })],
    [2, () => ({ name: "unknown opcode", bytes: spec({ opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: rng.bytes(rng.int(10)) }) })],
    [1, () => ({ name: "control frame over 125 bytes", bytes: spec({ opcode: rng.pick([OP.ping, OP.pong, OP.close]), payload: rng.bytes(126 + rng.int(50)), lengthForm: 16 }) })],
    [1, () => ({ name: "fragmented control frame", bytes: spec({ opcode: rng.pick([OP.ping, OP.close]), fin: false, payload: rng.bytes(rng.int(5)) }) })],
    [2, () => {
      const code = rng.pick([0, 1, 999, 1004, 1005, 1006, 1012, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 65535]);
      return { name: `close code ${code}`, bytes: spec({ opcode: OP.close, payload: closePayload(code, rng.text(5)) }) };
    }],
    [1, () => ({ name: "close with a 1-byte payload", bytes: spec({ opcode: OP.close, payload: Buffer.from([0x03]) }) })],
    [1, () => ({ name: "close reason not UTF-8", bytes: spec({ opcode: OP.close, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff, 0xfe])]) }) })],
    [1, () => ({ name: "continuation without a start", bytes: spec({ opcode: OP.continuation, payload: text(protocolJson(rng, ctx)) }) })],
    [1, () => {
      const json = Buffer.from(protocolJson(rng, ctx));
      const cut = rng.int(json.length + 1);
      const second = rng.chance(0.7) ? OP.continuation : OP.text;
      return { name: `fragmented text (second opcode ${second})`, bytes: Buffer.concat([spec({ opcode: OP.text, fin: false, payload: json.subarray(0, cut) }), spec({ opcode: second, payload: json.subarray(cut) })]) };
    }],
    [1, () => ({ name: "length longer than the payload", bytes: spec({ opcode: OP.text, payload: text(protocolJson(rng, ctx)), declaredLength: rng.length() + 200 }) })],
    [1, () => ({ name: "non-minimal length", bytes: spec({ opcode: OP.text, payload: text(protocolJson(rng, ctx)), lengthForm: rng.pick([16, 64] as const) }) })],
    [1, () => ({ name: "64-bit length with the top bit set", bytes: Buffer.concat([Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]), mask]) })],
    [1, () => ({ name: "frame past the payload limit", bytes: spec({ opcode: rng.pick([OP.text, OP.binary]), payload: Buffer.alloc(ctx.maxBodyBytes + 1 + rng.int(1000), 0x61) }) })],
    [1, () => ({ name: "binary frame", bytes: spec({ opcode: OP.binary, payload: rng.bytes(rng.int(30)) }) })],
    [1, () => ({ name: "ping", bytes: spec({ opcode: OP.ping, payload: rng.bytes(rng.int(20)) }) })],
    [1, () => ({ name: "pong", bytes: spec({ opcode: OP.pong, payload: rng.bytes(rng.int(20)) }) })],
    [1, () => ({ name: "random bytes", bytes: rng.bytes(1 + rng.int(20)) })],
    [2, () => ({ name: "mutated frame", bytes: rng.mutate(spec({ opcode: OP.text, payload: text(protocolJson(rng, ctx)) })) })],
  ];
  return rng.weighted(kinds)();
}

/** The WebSocket case number `index` (its randomness comes from `rng` alone). */
export function wsCase(rng: Rng, ctx: FuzzContext): WsCase {
  const path = rng.weighted([
    [7, "/ws"],
    [2, `/room/${ctx.roomId}/subscribe`],
    [1, "/me/subscribe"],
  ] as const);
  const auth: Record<string, string> = rng.weighted<Record<string, string>>([
    [9, { authorization: `Bearer ${ctx.token}` }],
    [1, {}],
  ]);
  let upgrade: Buffer = Buffer.from(upgradeRequest(path, auth));
  let upgradeNote = "";
  if (rng.chance(0.08)) {
    upgrade = rng.mutate(upgrade);
    upgradeNote = " (mutated upgrade)";
  }
  const frames: { name: string; bytes: Buffer }[] = [];
  for (let n = rng.range(1, 5); n > 0; n--) frames.push(frame(rng, ctx));
  frames.push({ name: "close 1000", bytes: encodeWsFrame({ opcode: OP.close, payload: closePayload(1000), mask: rng.bytes(4) }) });
  return {
    upgrade,
    frames: frames.map((f) => f.bytes),
    description: `WebSocket ${path}${upgradeNote}: ${frames.map((f) => f.name).join(" → ")}`,
  };
}
