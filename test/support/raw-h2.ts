/**
 * One gRPC call written by hand over HTTP/2, read back whole: status, headers, body bytes and
 * trailers — to compare the server's answers byte for byte between a fast path and connect-node.
 */
import { connect, constants, type IncomingHttpHeaders } from "node:http2";

export interface RawH2Response {
  readonly status: number | undefined;
  /** Response headers without `date` (it changes by the second) and pseudo-headers. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly trailers: Record<string, string>;
}

export async function rawH2(baseUrl: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<RawH2Response> {
  const session = connect(baseUrl);
  try {
    return await new Promise<RawH2Response>((resolve, reject) => {
      session.on("error", reject);
      const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: "POST", [constants.HTTP2_HEADER_PATH]: path, ...headers });
      let head: IncomingHttpHeaders = {};
      let tail: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on("response", (h) => (head = h));
      stream.on("trailers", (t) => (tail = t));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", reject);
      stream.on("end", () =>
        resolve({ status: Number(head[":status"]), headers: plain(head), body: Buffer.concat(chunks), trailers: plain(tail) }),
      );
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

function plain(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || name === "date" || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}
