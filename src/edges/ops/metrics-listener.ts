/**
 * GET /metrics (Prometheus text) — on the public port by default, or on a listener of its own
 * (METRICS_PORT, METRICS_HOST) so the counters can be kept off the internet by a firewall rule
 * or a private interface. The own listener answers nothing else.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { sendError, setApiHeaders } from "../http/respond.js";

/** Writes the registry's current text; the caller has checked the method and path. */
export async function sendMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  const text = await metrics.exposition();
  res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** True for a request of the metrics route: GET or HEAD /metrics, with or without a query. */
export function isMetricsRequest(method: string | undefined, url: string | undefined): boolean {
  return (method === "GET" || method === "HEAD") && (url === "/metrics" || url?.startsWith("/metrics?") === true);
}

/** The metrics' own HTTP/1.1 server (not yet listening): /metrics, 404 for anything else. */
export function createMetricsListener(metrics: Metrics, logger: Logger): Server {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    setApiHeaders(res);
    if (!isMetricsRequest(req.method, req.url)) return sendError(res, 404, "not_found", "only GET /metrics is served here");
    sendMetrics(res, metrics).catch((error: unknown) => {
      logger.error({ err: error }, "metrics collection failed");
      if (!res.headersSent) sendError(res, 500, "internal", "internal error");
      else res.end();
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  return server;
}
