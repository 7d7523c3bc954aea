/**
 * connect-node's row of the router (router.ts): the Connect, gRPC and gRPC-Web handlers of every
 * procedure (one router built from the same routes, interceptors and options as before), as
 * connect-node's own adapter serves them — plus the request check (request-check.ts) in front,
 * so that a malformed request message is INVALID_ARGUMENT in every protocol, and the handover
 * the fast paths use for what they leave to connect-node, through the same check.
 *
 * It replaces `connectNodeAdapter`, whose dispatch is these few lines, because the check must
 * see a request's body before connect-node does; and because that adapter throws from the
 * request listener — an uncaught exception, the process gone — when a request has no authority
 * (an HTTP/1.0 request without Host; the router, router.ts, answers that and a Host that is
 * no URL authority with 400 before any handler). A path that is no procedure's is not claimed:
 * the router's next rows have it (connect-node's `fallback`, in the router's table).
 */
import { Code, ConnectError, createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { type ConnectNodeAdapterOptions, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../observability/logger.js";
import { sendError } from "../http/respond.js";
import { checkRequestMessage, type RequestCheckOptions } from "./request-check.js";
import { type BufferedBody, readBody } from "./request-body.js";
import { type AdmissionDecision, admissionDecisionKey } from "../admission/admission.js";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * Serves a request whose body was (partly) read already, through connect-node's handler for
 * `procedure`: the fast paths' handover. The body is checked first, then replayed.
 */
export type RpcFallback = (req: NodeRequest, res: NodeResponse, procedure: string, body: BufferedBody, decision?: AdmissionDecision) => void;

/** The handlers as the router mounts them. */
export interface ConnectHandler {
  /** Serves a request to a procedure's path through its handler (true); false, touching nothing, for any other path. */
  readonly claim: (req: NodeRequest, res: NodeResponse) => boolean;
  readonly handOver: RpcFallback;
}

/** Options: connect-node's (routes, interceptors, limits, compression…) without its fallback (the router has the other paths). */
export type ConnectHandlerOptions = Omit<ConnectNodeAdapterOptions, "fallback"> & RequestCheckOptions;

/** Builds the handlers once per server. Throws at start-up when one of `required` is not routed. */
export function createConnectHandler(options: ConnectHandlerOptions, required: readonly string[], logger: Logger): ConnectHandler {
  const router = createConnectRouter(options);
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  for (const procedure of required) {
    if (!handlers.has(procedure)) throw new Error(`no Connect handler for ${procedure}`);
  }

  /** Calls the handler with `body` (or a body that fails with the check's error) and writes its answer. */
  async function dispatch(req: NodeRequest, res: NodeResponse, handler: UniversalHandler, body: BufferedBody | undefined, decision?: AdmissionDecision): Promise<void> {
    const refused = body && (await checkRequestMessage(handler.method, req, body, options));
    if (refused) logger.info({ procedure: handler.requestPath, reason: refused.rawMessage }, "rpc request refused");
    const contextValues = options.contextValues?.(req) ?? (decision ? createContextValues() : undefined);
    if (decision) contextValues?.set(admissionDecisionKey, decision);
    const request = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    const response = await handler(body ? { ...request, body: refused ? failing(refused) : body.replay() } : request);
    await universalResponseToNodeResponse(response, res);
  }

  function run(req: NodeRequest, res: NodeResponse, handler: UniversalHandler, body: Promise<BufferedBody | undefined>, decision?: AdmissionDecision): void {
    body
      .then((read) => dispatch(req, res, handler, read, decision))
      .catch((reason: unknown) => {
        // As connect-node's adapter: a client that left (mid-body or mid-answer) is not worth a log line.
        const error = ConnectError.from(reason);
        // Not `req.destroyed`: an HTTP/1.1 request is destroyed once its body has been read.
        const connectionGone = "stream" in req ? req.stream.destroyed : req.socket.destroyed;
        if (error.code === Code.Aborted || res.destroyed || connectionGone) {
          logger.debug({ err: reason, procedure: handler.requestPath }, "rpc ended: the client left");
          return;
        }
        logger.error({ err: reason, procedure: handler.requestPath }, "rpc handler failed");
        if (!res.headersSent) sendError(res as ServerResponse, 500, "internal", "internal error");
        else res.destroy();
      });
  }

  return {
    claim(req, res) {
      const handler = handlers.get(req.url?.split("?", 1)[0] ?? "");
      if (!handler) return false;
      // Only a POST carries a message (connect-node answers anything else, 405, without reading);
      // a client or bidi stream (reflection) goes unread: its body ends only when the call does.
      const single = handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
      run(req, res, handler, req.method === "POST" && single ? readBody(req, options.readMaxBytes) : Promise.resolve(undefined));
      return true;
    },
    handOver(req, res, procedure, body, decision) {
      run(req, res, handlers.get(procedure)!, Promise.resolve(body), decision);
    },
  };
}

/** A request body that fails with `error` when read: connect-node answers it in the request's protocol. */
async function* failing(error: ConnectError): AsyncGenerator<Uint8Array> {
  yield* [];
  throw error;
}
