/**
 * WebSocket framing by hand (RFC 6455), so the protocol fuzz can send what no client library
 * would: unmasked frames, RSV bits, unknown opcodes, lying lengths, bad close codes, broken
 * UTF-8. And reading the server's frames back (the server never masks).
 */
import { randomBytes } from "node:crypto";

export interface WsFrameSpec {
  fin?: boolean;
  rsv?: number; // 0–7: RSV1..RSV3
  opcode: number; // 0–15
  masked?: boolean;
  payload: Buffer;
  /** Declared length when it should lie about the payload's size. */
  declaredLength?: number;
  /** Force the 16- or 64-bit length form even for a short payload (non-minimal encoding). */
  lengthForm?: 7 | 16 | 64;
  mask?: Buffer;
}

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Encodes one frame as the spec says, lies included. */
export function encodeWsFrame(spec: WsFrameSpec): Buffer {
  const masked = spec.masked ?? true;
  const length = spec.declaredLength ?? spec.payload.length;
  const form = spec.lengthForm ?? (length < 126 ? 7 : length < 65_536 ? 16 : 64);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  if (form === 7) head.push(maskBit | Math.min(length, 125));
  else if (form === 16) head.push(maskBit | 126, (length >> 8) & 0xff, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), spec.payload]);
  const mask = spec.mask ?? randomBytes(4);
  const body = Buffer.from(spec.payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** A close frame's payload: the code, then a reason. */
export function closePayload(code: number, reason = ""): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(code & 0xffff);
  return Buffer.concat([out, Buffer.from(reason)]);
}

export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Reads the complete frames at the start of `data` (what the server sent after the 101). */
export function parseServerFrames(data: Buffer): ServerFrame[] {
  return parseFrames(data);
}

/** The close codes of the close frames a client's bytes hold (as far as they parse as frames). */
export function clientCloseCodes(frames: readonly Buffer[]): number[] {
  return parseFrames(Buffer.concat(frames)).filter((f) => f.opcode === OP.close).map(closeCodeOf);
}

function parseFrames(data: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    const masked = (data[at + 1]! & 0x80) !== 0;
    let length = data[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > data.length) break;
      length = data.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(offset));
      offset += 8;
    }
    const mask = masked ? data.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (offset + length > data.length) break;
    const payload = Buffer.from(data.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ opcode, payload });
    at = offset + length;
  }
  return frames;
}

/** The close code of a server close frame (1005 "no code" when it carries none). */
export function closeCodeOf(frame: ServerFrame): number {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
}

/** An HTTP/1.1 WebSocket upgrade request. */
export function upgradeRequest(path: string, headers: Record<string, string>): string {
  const lines = [`GET ${path} HTTP/1.1`, "host: 127.0.0.1", "upgrade: websocket", "connection: Upgrade", `sec-websocket-key: ${randomBytes(16).toString("base64")}`, "sec-websocket-version: 13"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}
