/**
 * Subscribe requests written by hand over HTTP/1.1 (Connect and gRPC-Web streaming), to compare
 * the server's bytes between the fast path and connect-node.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";

/** One uncompressed message envelope (flags 0, 32-bit big-endian length, data). */
export function envelope(data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** Which subscribe procedure a raw stream calls, and a hook told the number of envelopes read so far after each new one. */
export interface RawStreamOptions {
  readonly procedure?: "SubscribeRoom" | "SubscribeDirectMessages";
  readonly onEnvelope?: (read: number) => void;
}

/** POSTs a stream request over HTTP/1.1 and reads the first `count` response envelopes. */
export async function rawStream(baseUrl: string, headers: Record<string, string>, body: Buffer, count: number, options: RawStreamOptions = {}) {
  const url = new URL(`/chat.v1.MessageService/${options.procedure ?? "SubscribeRoom"}`, baseUrl);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "content-length": String(body.length) } }, resolve);
    req.on("error", reject);
    req.end(body);
  });
  let buffered = Buffer.alloc(0);
  const envelopes: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const size = 5 + buffered.readUInt32BE(1);
      envelopes.push(buffered.subarray(0, size));
      buffered = buffered.subarray(size);
      options.onEnvelope?.(envelopes.length);
    }
    if (envelopes.length >= count) break;
  }
  res.destroy();
  return { status: res.statusCode, contentType: res.headers["content-type"], headers: headersOf(res), envelopes: envelopes.slice(0, count) };
}

/** POSTs a stream request over HTTP/1.1 that the server ends at once (an error); reads the whole response. */
export async function rawResponse(baseUrl: string, headers: Record<string, string>, body: Buffer) {
  const url = new URL("/chat.v1.MessageService/SubscribeRoom", baseUrl);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "content-length": String(body.length) } }, resolve);
    req.on("error", reject);
    req.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return { status: res.statusCode, contentType: res.headers["content-type"], headers: headersOf(res), body: Buffer.concat(chunks).toString("latin1") };
}

/** Response headers as sent, without `date` (it changes by the second) and hop-by-hop framing. */
function headersOf(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (name === "date" || name === "connection" || name === "keep-alive" || name === "transfer-encoding" || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
