/**
 * HTTP/2 framing by hand (RFC 9113), so the protocol fuzz can send frames no client library
 * would: any type, flags, stream id and length, after a valid connection preface. Header blocks
 * use HPACK literals without indexing or Huffman (RFC 7541 §6.2.2), the simplest valid encoding.
 */

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const FRAME = { data: 0, headers: 1, priority: 2, rstStream: 3, settings: 4, pushPromise: 5, ping: 6, goaway: 7, windowUpdate: 8, continuation: 9 } as const;
export const FLAG = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;

/** One frame; `declaredLength` lies about the payload's size when given. */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer, declaredLength?: number): Buffer {
  const head = Buffer.alloc(9);
  const length = declaredLength ?? payload.length;
  head.writeUIntBE(length & 0xffffff, 0, 3);
  head[3] = type & 0xff;
  head[4] = flags & 0xff;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A header block of literal fields without indexing, new names, no Huffman. */
export function hpackBlock(headers: readonly (readonly [string, string])[]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name, "latin1");
    const v = Buffer.from(value, "latin1");
    bytes.push(0x00, ...hpackInt(n.length, 7), ...n, ...hpackInt(v.length, 7), ...v);
  }
  return Buffer.from(bytes);
}

/** A SETTINGS frame with the given (id, value) pairs. */
export function settingsFrame(settings: readonly (readonly [number, number])[] = [], flags = 0): Buffer {
  const payload = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return h2Frame(FRAME.settings, flags, 0, payload);
}

export interface H2FrameHead {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Reads the complete frames the server sent (after its own SETTINGS, everything is frames). */
export function parseH2Frames(data: Buffer): H2FrameHead[] {
  const frames: H2FrameHead[] = [];
  let at = 0;
  while (at + 9 <= data.length) {
    const length = data.readUIntBE(at, 3);
    if (at + 9 + length > data.length) break;
    frames.push({ type: data[at + 3]!, flags: data[at + 4]!, streamId: data.readUInt32BE(at + 5) & 0x7fffffff, payload: data.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}
