/** Writing REST responses: JSON bodies and the one error shape {"code", "message"}. */
import type { ServerResponse } from "node:http";

/**
 * A response of either HTTP version. Node's Http2ServerResponse implements the same
 * compatibility API (writeHead, setHeader, write, end), so the edge is written against HTTP/1.1's.
 */
export type AnyResponse = ServerResponse;

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};

/** Sends a JSON body with the given status (no body for 204). */
export function sendJson(res: AnyResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = status === 204 || body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...(payload ? { "content-type": "application/json; charset=utf-8" } : {}),
    "content-length": String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

/** Sends the error shape every REST route uses: {"code": "not_found", "message": "..."}. */
export function sendError(res: AnyResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code, message }, headers);
}
