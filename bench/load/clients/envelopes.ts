/**
 * The length-prefixed envelopes of gRPC and Connect streams (1 flags byte, 4 bytes big-endian
 * length, the payload), read from a body as it arrives. An envelope may be split across chunks
 * and a chunk may hold several; whole envelopes in a chunk are handed out in place, without
 * copying, and only an envelope split across chunks is gathered into a buffer of its own.
 */

/** Receives one envelope: its flags and its payload as `bytes[start, end)`, valid only during the call. */
export type EnvelopeHandler = (flags: number, bytes: Buffer, start: number, end: number) => void;

const PREFIX = 5;
/** Larger envelopes are refused: the subscribe streams send frames of a few hundred bytes. */
export const MAX_ENVELOPE = 4 * 1024 * 1024;

/** Splits one stream's body into envelopes, in order; `push` throws on an oversized envelope. */
export class EnvelopeReader {
  readonly #onEnvelope: EnvelopeHandler;
  /** The start of an envelope that has not fully arrived (prefix included), or undefined. */
  #pending: Buffer | undefined;

  constructor(onEnvelope: EnvelopeHandler) {
    this.#onEnvelope = onEnvelope;
  }

  /** Whether a started envelope is still incomplete (a body ending now would be truncated). */
  get partial(): boolean {
    return this.#pending !== undefined;
  }

  /** Reads the next chunk of the body. */
  push(chunk: Buffer): void {
    let bytes = chunk;
    if (this.#pending) {
      bytes = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let at = 0;
    while (bytes.length - at >= PREFIX) {
      const length = bytes.readUInt32BE(at + 1);
      if (length > MAX_ENVELOPE) throw new Error(`envelope of ${length} bytes`);
      const end = at + PREFIX + length;
      if (end > bytes.length) break;
      this.#onEnvelope(bytes[at]!, bytes, at + PREFIX, end);
      at = end;
    }
    if (at < bytes.length) this.#pending = bytes.subarray(at);
  }
}

/** `payload` as one uncompressed envelope (flags 0, big-endian length). */
export function envelope(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX + payload.length);
  frame[0] = 0;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, PREFIX);
  return frame;
}
