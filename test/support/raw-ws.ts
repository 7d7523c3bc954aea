/**
 * A WebSocket spoken by hand over node:net: a real HTTP/1.1 upgrade, then frames built byte by
 * byte — including the ones no client library would send (unmasked, RSV bits, unknown opcodes,
 * bad close codes, invalid UTF-8, lengths past the limit). Server frames are parsed as they
 * arrive, and a close frame is answered as a client must; waiting is on events (a frame, the
 * socket's end), never on a timer.
 */
import { randomBytes } from "node:crypto";
import { connect as tcpConnect, type Socket } from "node:net";

/** One frame from the server. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** How a raw socket ended: the server's close frame (code, reason), if any, then the TCP end. */
export interface RawClose {
  readonly code: number | undefined;
  readonly reason: string;
}

export interface RawWebSocket {
  readonly socket: Socket;
  readonly frames: ServerFrame[];
  /** Writes raw bytes (one or more frames, or part of one). */
  write(bytes: Buffer): void;
  /** Resolves with the first frame (received so far or later) that matches; rejects if the socket ends first. */
  next(match: (frame: ServerFrame) => boolean): Promise<ServerFrame>;
  /** Resolves when the TCP connection has closed, with the server's close frame if it sent one. */
  readonly closed: Promise<RawClose>;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Buffer | string;
  readonly fin?: boolean;
  /** RSV1..RSV3 as bits 0b100, 0b010, 0b001. */
  readonly rsv?: number;
  /** Clients must mask; false sends the frame unmasked (a protocol error). */
  readonly masked?: boolean;
  /** Declared payload length, when it should differ from the payload's (a frame too large to send). */
  readonly declaredLength?: number;
}

/** Builds one frame as a client sends it (masked unless told otherwise). */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const length = spec.declaredLength ?? payload.length;
  const masked = spec.masked ?? true;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(length));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code: number, reason = ""): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code);
  out.write(reason, 2);
  return out;
}

/**
 * Upgrades `path` on the server at `port` and resolves once the 101 arrived; rejects with the
 * status line of any other answer.
 */
export function rawWebSocket(port: number, path: string, headers: Record<string, string> = {}): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    const frames: ServerFrame[] = [];
    const waiters = new Set<() => void>();
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    let ended = false;
    let resolveClosed: (close: RawClose) => void = () => undefined;
    const closed = new Promise<RawClose>((r) => (resolveClosed = r));
    const notify = () => {
      for (const waiter of [...waiters]) waiter();
    };
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString("latin1");
        if (!head.startsWith("HTTP/1.1 101")) {
          socket.destroy();
          return reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        }
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        resolve(raw);
      }
      for (let parsed = parseFrame(buffered); parsed; parsed = parseFrame(buffered)) {
        frames.push(parsed.frame);
        buffered = buffered.subarray(parsed.size);
        // As a client must: answer the server's close frame, so it closes the connection now.
        if (parsed.frame.opcode === OPCODE.close && !socket.destroyed) socket.write(frame({ opcode: OPCODE.close, payload: parsed.frame.payload.subarray(0, 2) }));
      }
      notify();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      ended = true;
      if (!upgraded) reject(new Error("connection closed before the upgrade"));
      const close = frames.find((f) => f.opcode === OPCODE.close);
      resolveClosed({
        code: close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined,
        reason: close ? close.payload.subarray(2).toString() : "",
      });
      notify();
    });
    const raw: RawWebSocket = {
      socket,
      frames,
      write: (bytes) => void socket.write(bytes),
      closed,
      next: (match) =>
        new Promise((resolveFrame, rejectFrame) => {
          const check = () => {
            const found = frames.find(match);
            if (found) {
              waiters.delete(check);
              resolveFrame(found);
            } else if (ended) {
              waiters.delete(check);
              rejectFrame(new Error(`socket closed first; frames: ${frames.map((f) => f.opcode).join(",")}`));
            }
          };
          waiters.add(check);
          check();
        }),
    };
    const lines = [
      `GET ${path} HTTP/1.1`,
      "host: 127.0.0.1",
      "upgrade: websocket",
      "connection: Upgrade",
      `sec-websocket-key: ${randomBytes(16).toString("base64")}`,
      "sec-websocket-version: 13",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

function parseFrame(bytes: Buffer): { frame: ServerFrame; size: number } | undefined {
  if (bytes.length < 2) return undefined;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  if (bytes.length < offset + length) return undefined;
  return {
    frame: { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, payload: Buffer.from(bytes.subarray(offset, offset + length)) },
    size: offset + length,
  };
}
