/** Writing REST responses: JSON bodies and the one error shape {"code", "message"}. */
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
import type { Logger } from "../../observability/logger.js";
import { describeFailure } from "./http-failure.js";

/**
 * A response of either HTTP version. Node's Http2ServerResponse implements the same
 * compatibility API (writeHead, setHeader, write, end), so the edge is written against HTTP/1.1's.
 */
export type AnyResponse = ServerResponse;

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};

/**
 * Marks an answer as API data: never sniffed as another type, never stored by a cache (answers
 * carry private messages and tokens). Set first on every request of the port (router.ts), so
 * connect-node's answers and the fast paths' get them as REST's do; routes that may be cached
 * (the web page, the docs assets) set their own Cache-Control over it.
 */
export function setApiHeaders(res: AnyResponse): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("cache-control", "no-store");
}

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

/**
 * Answers any thrown value with its status and error body (see http-failure.ts); logs the cause
 * of unexpected failures. When the response has already started, it is only ended.
 */
export function sendFailure(res: AnyResponse, error: unknown, logger: Logger, extraHeaders: Record<string, string> = {}): void {
  const failure = describeFailure(error);
  if (failure.logCause) logger.error({ err: error }, "http request failed");
  if (res.headersSent) {
    res.end();
    return;
  }
  sendError(res, failure.status, failure.code, failure.message, { ...failure.headers, ...extraHeaders });
}

/**
 * Refuses a WebSocket upgrade on the raw socket (no WebSocket exists yet) with the same JSON
 * error body, then closes the connection.
 */
export function refuseUpgrade(socket: Duplex, error: unknown, logger: Logger): void {
  const failure = describeFailure(error);
  if (failure.logCause) logger.error({ err: error }, "websocket upgrade failed");
  const body = JSON.stringify({ code: failure.code, message: failure.message });
  const headers = {
    ...failure.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    connection: "close",
  };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  if (socket.writable) socket.end(`HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ""}\r\n${head}\r\n${body}`);
  else socket.destroy();
}
