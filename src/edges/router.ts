/**
 * Every way into a node, in one table: the listener (listener.ts) hands each request to
 * `serve`, which asks the rows below in order; the first row that claims the request answers it,
 * and no other row sees it. A row either claims (true, or a promise of true once it has decided)
 * or declines having touched nothing (false). WebSocket upgrades, which are no request/response
 * pair, have their own entry (`upgrade`). Read the table to know which handler serves a request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../observability/logger.js";
import { requestSite, requestTarget, authorityProblem, type RequestSite, type RequestTarget } from "./http/request-site.js";
import { sendError, sendFailure, setApiHeaders } from "./http/respond.js";
import type { StaticFiles } from "./http/static-files.js";
import type { OpsRoutes } from "./ops/ops-routes.js";
import type { RestHandler } from "./rest/rest-handler.js";
import type { ConnectHandler } from "./rpc/connect-handler.js";
import type { FastPath } from "./rpc/fast/fast-path.js";
import type { SubscribeRoutes } from "./sse/subscribe-route.js";
import type { RequestHandler, UpgradeHandler } from "./listener.js";

/** The handlers the table routes to, built once per node (edges.ts). */
export interface RouterHandlers {
  /** CORS headers for an allowed cross-origin caller; true when it answered a preflight (http/cors.ts). */
  readonly cors: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The subscribe-stream and gRPC unary fast paths, behind one claim (rpc/fast/). */
  readonly fastPaths: FastPath;
  /** connect-node's handlers of every procedure (rpc/connect-handler.ts). */
  readonly rpc: ConnectHandler;
  readonly ops: OpsRoutes;
  readonly rest: RestHandler;
  readonly sse: SubscribeRoutes;
  readonly statics: StaticFiles;
  /** WebSocket upgrades: /ws and the subscribe routes (ws/ws-upgrade.ts). */
  readonly upgrade: UpgradeHandler;
  readonly trustedProxies: readonly string[];
  readonly logger: Logger;
}

/** One request on its way through the table; its target and site are worked out once, when a row first asks. */
class EdgeRequest {
  #target: RequestTarget | undefined;
  #site: RequestSite | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly trustedProxies: readonly string[],
  ) {}

  /** The path and query (the "no path" row has made sure there is a path). */
  get target(): RequestTarget {
    return (this.#target ??= requestTarget(this.req.url ?? "/"));
  }

  get site(): RequestSite {
    return (this.#site ??= requestSite(this.req, this.trustedProxies));
  }
}

/** A row of the table: its name says what it serves. */
interface Row {
  readonly name: string;
  readonly claims: (request: EdgeRequest) => boolean | Promise<boolean>;
}

/** The router as the listener mounts it. */
export interface Router {
  readonly serve: RequestHandler;
  readonly upgrade: UpgradeHandler;
}

/** The router over the handlers: its table is the list of every way into the node, in the order they are asked. */
export function createRouter(handlers: RouterHandlers): Router {
  const { cors, fastPaths, rpc, ops, rest, sse, statics, logger } = handlers;
  const table: readonly Row[] = [
    { name: "every request: API headers; no usable Host → 400", claims: ({ req, res }) => refuseBadAuthority(req, res) },
    { name: "CORS: headers for allowed origins; preflights answered", claims: ({ req, res }) => cors(req, res) },
    { name: "rpc fast paths: subscribe streams, gRPC unary", claims: ({ req, res }) => fastPaths(req, res) },
    { name: "connect-node: Connect, gRPC, gRPC-Web on a procedure's path", claims: ({ req, res }) => rpc.claim(req, res) },
    { name: "a request target that is no path → 400", claims: ({ req, res }) => refuseNoPath(req, res) },
    { name: "ops: /metrics /healthz /openapi.json /docs", claims: ({ req, res, target }) => ops(req, res, target) },
    { name: "REST: the proto's google.api.http routes (405 with Allow)", claims: ({ req, res, target, site }) => rest(req, res, target, site) },
    { name: "SSE: GET on a subscribe route (else its 202)", claims: ({ req, res, target, site }) => sse(req, res, target, site) },
    { name: "static web page", claims: ({ req, res, target }) => statics(req, res, target) },
    { name: "nothing else: 404", claims: ({ req, res, target }) => notFound(req, res, target) },
  ];

  /** Asks the rows from `from` on; a row that decides later resumes the walk after itself. */
  function serveFrom(from: number, request: EdgeRequest): void {
    try {
      for (let at = from; at < table.length; at++) {
        const claimed = table[at]!.claims(request);
        if (claimed === true) return;
        if (claimed === false) continue;
        claimed.then(
          (taken) => taken || serveFrom(at + 1, request),
          (error: unknown) => sendFailure(request.res, error, logger),
        );
        return;
      }
    } catch (error) {
      sendFailure(request.res, error, logger);
    }
  }

  return {
    // HTTP/2 compat objects offer HTTP/1.1's API; every row is written against that (see http/respond.ts).
    serve: (req, res) => serveFrom(0, new EdgeRequest(req as IncomingMessage, res as unknown as ServerResponse, handlers.trustedProxies)),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => handlers.upgrade(req, socket, head),
  };
}

/**
 * The API headers on every answer, Connect's, gRPC's and REST's alike; and 400 for a request
 * whose authority cannot serve as a URL's, before any handler builds a URL from it.
 */
function refuseBadAuthority(req: IncomingMessage, res: ServerResponse): boolean {
  setApiHeaders(res);
  const badAuthority = authorityProblem(req);
  if (!badAuthority) return false;
  sendError(res, 400, "invalid_argument", badAuthority);
  return true;
}

function refuseNoPath(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.url?.startsWith("/")) return false;
  sendError(res, 400, "invalid_argument", "request target must be a path");
  return true;
}

function notFound(req: IncomingMessage, res: ServerResponse, target: RequestTarget): true {
  sendError(res, 404, "not_found", `no route for ${req.method} ${target.pathname}`);
  return true;
}
