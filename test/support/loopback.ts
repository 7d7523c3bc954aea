/**
 * HTTP/1.1 requests from a chosen loopback source address (127.0.0.2, 127.0.0.3…: Linux routes
 * all of 127/8 to lo), so a test can be several clients the server tells apart by address, as
 * it would on a real network — no forwarded-for header, no trusted proxy.
 */
import { Agent, request, type IncomingHttpHeaders } from "node:http";

export interface LoopbackResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let assigned = 0;
/**
 * A loopback address no other caller in this process got: 127.77.0.1, 127.77.0.2, … (a range
 * the tests do not otherwise use), for a client the server must tell apart by its address.
 */
export function nextLoopbackAddress(): string {
  assigned++;
  if (assigned >= 65_536) throw new Error("out of loopback addresses");
  return `127.77.${assigned >> 8}.${assigned & 255}`;
}

/** A keep-alive agent whose connections all come from `localAddress`. */
export function agentFrom(localAddress: string, maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets, localAddress });
}

/** Sends one request through `agent` and reads the whole answer. */
export function send(
  agent: Agent,
  url: string,
  init: { method?: string; path: string; headers?: Record<string, string>; json?: unknown },
): Promise<LoopbackResponse> {
  const target = new URL(init.path, url);
  const body = init.json === undefined ? undefined : JSON.stringify(init.json);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? (body === undefined ? "GET" : "POST"),
        headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
