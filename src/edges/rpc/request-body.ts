/**
 * Reading a subscribe request's body before deciding who serves it. The bytes read are kept, so
 * that connect-node can be handed the request unchanged (see connect-handler.ts): a body that is
 * too large is not read further, and the handover replays what was read, then the rest.
 */
import type { Readable } from "node:stream";

/** A request body as far as it was read. */
export interface BufferedBody {
  /** The chunks read so far, in order. */
  readonly chunks: readonly Uint8Array[];
  /** True when the whole body was read (within the limit). */
  readonly complete: boolean;
  /** The whole body as one iterable: the chunks read, then whatever was not read yet. */
  replay(): AsyncIterable<Uint8Array>;
}

/**
 * Reads the body until it ends or exceeds `maxBytes`. Rejects only when the request itself
 * fails (the client went away mid-body).
 */
export async function readBody(req: Readable, maxBytes: number): Promise<BufferedBody> {
  const source: AsyncIterator<Uint8Array> = req[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  for (;;) {
    const next = await source.next();
    if (next.done) {
      complete = true;
      break;
    }
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > maxBytes) break;
  }
  return {
    chunks,
    complete,
    replay: () => replay(chunks, complete ? undefined : source),
  };
}

async function* replay(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array> | undefined): AsyncGenerator<Uint8Array> {
  yield* chunks;
  if (!rest) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

const HEADER_BYTES = 5;

/**
 * The payload of a body that is exactly one uncompressed message envelope (flags 0, then a
 * 32-bit big-endian length, then that many bytes); undefined for anything else — no envelope,
 * a compressed or end-of-stream flag, a short or trailing byte — which connect-node answers.
 */
export function singleEnvelope(body: BufferedBody): Uint8Array | undefined {
  if (!body.complete) return undefined;
  const bytes = body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks);
  if (bytes.byteLength < HEADER_BYTES || bytes[0] !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(1);
  if (HEADER_BYTES + length !== bytes.byteLength) return undefined;
  return bytes.subarray(HEADER_BYTES);
}
