/**
 * The REST routes, generic over the route table built from the proto's google.api.http rules:
 * decode the HTTP request into the RPC's request message (rest/request-codec.ts), call the RPC
 * through the in-process Connect transport — the very same handlers and interceptors as every
 * other edge: logging, metrics, per-IP and per-user rate limits, authentication, validation —
 * and encode its response (rest/response-codec.ts). No route is written by hand here.
 *
 * The edge adds only what is HTTP's: the body limits and media type, the session cookie (set by
 * POST /auth/signin, cleared by POST /auth/signout) with its CSRF rule, absolute Location URIs,
 * 405 with Allow. The subscribe routes' GETs are not REST's: the router's SSE row serves them
 * (sse/subscribe-route.ts); REST answers other methods on them with 405.
 */
import type { IncomingMessage } from "node:http";
import type { DescMethod, DescMethodUnary } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { AuthService, type SignInResponse } from "../../../gen/chat/v1/auth_pb.js";
import type { Logger } from "../../observability/logger.js";
import { INTERNAL_IP_HEADER } from "../admission/client-address.js";
import { decodeRestRequest, encodeRestResponse } from "./request-codec.js";
import type { RouteTable } from "./route-table.js";
import type { OriginPolicy } from "../http/cors.js";
import { checkCookieWrite, findCredentials } from "../http/credentials.js";
import { describeFailure } from "../http/http-failure.js";
import { type BodyLimits, readJson } from "./request-body.js";
import type { RequestSite, RequestTarget } from "../http/request-site.js";
import { type AnyResponse, sendError, sendFailure, sendJson } from "../http/respond.js";
import { clearedSessionCookie, sessionCookie } from "../http/session-cookie.js";

/** What the REST handler needs: the route table, the in-process transport, the origin policy and body limits. */
export interface RestHandlerDeps {
  readonly table: RouteTable;
  readonly transport: Transport;
  readonly policy: OriginPolicy;
  readonly body: BodyLimits;
  readonly logger: Logger;
}

/** Serves a request if a unary REST route matches its path (or answers 405); resolves false (touching nothing) otherwise. Never rejects. */
export type RestHandler = (req: IncomingMessage, res: AnyResponse, url: RequestTarget, site: RequestSite) => Promise<boolean>;

/** The REST handler over the route table; every route it serves comes from the proto. */
export function createRestHandler(deps: RestHandlerDeps): RestHandler {
  return async (req, res, url, site) => {
    const match = deps.table.match(req.method ?? "GET", url.pathname);
    if ("error" in match) {
      if (match.error === "not_found") return false;
      sendError(res, 405, "unimplemented", `${req.method} is not allowed on ${url.pathname}`, { allow: match.allow.join(", ") });
      return true;
    }
    if (match.route.streaming) return false;
    const signOut = match.route.method === AuthService.method.signOut;
    try {
      await serveUnary(req, res, match, url, site);
    } catch (error) {
      const failure = describeFailure(error);
      const headers: Record<string, string> = {};
      // A rejected sign-out still forgets the browser's cookie.
      if (signOut && failure.status === 401) headers["set-cookie"] = clearedSessionCookie(site);
      sendFailure(res, error, deps.logger, headers);
    }
    return true;
  };

  async function serveUnary(
    req: IncomingMessage,
    res: AnyResponse,
    { route, pathParams }: Extract<ReturnType<RouteTable["match"]>, { route: unknown }>,
    url: RequestTarget,
    site: RequestSite,
  ): Promise<void> {
    const method = route.method;
    if (!isUnary(method)) throw new Error(`${method.name} is not unary`);
    const body = await readJson(req, deps.body);
    const request = decodeRestRequest(route, pathParams, url.searchParams, body);
    const credentials = await findCredentials(req, url.searchParams);
    checkCookieWrite(req, credentials, site, deps.policy);
    const header = new Headers({ [INTERNAL_IP_HEADER]: site.ip });
    if (credentials) header.set("authorization", credentials.authorization);
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const response = await deps.transport.unary(method, gone.signal, undefined, header, request);
    const out = encodeRestResponse(route, response.message);
    const headers: Record<string, string> = { ...out.headers };
    if (out.location !== undefined) headers["location"] = `${site.origin}${out.location}`;
    if (method === AuthService.method.signIn) {
      const signedIn = response.message as SignInResponse;
      const expiresAtMs = Number(signedIn.expiresAt?.seconds ?? 0n) * 1000;
      headers["set-cookie"] = sessionCookie(signedIn.accessToken, expiresAtMs, site);
    }
    if (method === AuthService.method.signOut) headers["set-cookie"] = clearedSessionCookie(site);
    sendJson(res, out.status, out.body, headers);
  }
}

function isUnary(method: DescMethod): method is DescMethodUnary {
  return method.methodKind === "unary";
}
