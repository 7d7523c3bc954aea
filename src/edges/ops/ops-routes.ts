/**
 * What operators and tools ask the public port, over plain HTTP: GET /metrics (unless METRICS_PORT
 * moves it to its own listener, metrics-listener.ts), GET /healthz (503 while the node drains, so
 * an HTTP load balancer stops sending new requests here), the OpenAPI document and its docs page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metrics } from "../../observability/metrics.js";
import type { RequestTarget } from "../http/request-site.js";
import { sendJson } from "../http/respond.js";
import type { DocsHandler } from "../rest/docs-page.js";
import { isMetricsRequest, sendMetrics } from "./metrics-listener.js";

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = "/openapi.json";

/** What the ops row reads: the metrics, the drain, the OpenAPI document and the docs page. */
export interface OpsRoutesDeps {
  readonly metrics: Metrics;
  /** False when METRICS_PORT gives /metrics a listener of its own: it is then not found here. */
  readonly metricsHere: boolean;
  /** Aborted when the node starts to drain. */
  readonly drainSignal: AbortSignal;
  readonly openapi: unknown;
  readonly docs: DocsHandler;
}

/** Serves an ops request (true, or a promise of true once answered); false, touching nothing, for any other. */
export type OpsRoutes = (req: IncomingMessage, res: ServerResponse, url: RequestTarget) => boolean | Promise<boolean>;

/** The router's ops row. */
export function createOpsRoutes(deps: OpsRoutesDeps): OpsRoutes {
  const { metrics, drainSignal, openapi, docs } = deps;
  return (req, res, url) => {
    if (deps.metricsHere && isMetricsRequest(req.method, req.url)) return sendMetrics(res, metrics).then(() => true);
    if (req.method === "GET" && url.pathname === "/healthz") {
      sendJson(res, drainSignal.aborted ? 503 : 200, { status: drainSignal.aborted ? "stopping" : "ok" });
      return true;
    }
    if (req.method === "GET" && url.pathname === OPENAPI_PATH) {
      sendJson(res, 200, openapi);
      return true;
    }
    return docs(req, res);
  };
}
