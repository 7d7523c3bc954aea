/**
 * Handing a request back to connect-node after the fast path has read its body: the
 * request goes to connect's own handler for the procedure (a router built from the same routes,
 * interceptors and options as the connect-node adapter), with a body that replays the bytes
 * already read. connect-node then answers exactly as if the fast path did not exist — the same
 * error, in the same protocol, with the same logs and metrics.
 */
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  type ConnectNodeAdapterOptions,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../../observability/logger.js";
import type { BufferedBody } from "./request-body.js";

/** Serves a request whose body was (partly) read already, through connect-node's handler for `procedure`. */
export type RpcFallback = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  procedure: string,
  body: BufferedBody,
) => void;

/**
 * Builds the fallback for every procedure of the adapter's routes, from its options (routes,
 * interceptors, shutdown signal, limits, context values). Throws at start-up when one of
 * `required` is not routed.
 */
export function createRpcFallback(options: ConnectNodeAdapterOptions, required: readonly string[], logger: Logger): RpcFallback {
  const router = createConnectRouter(options);
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  for (const procedure of required) {
    if (!handlers.has(procedure)) throw new Error(`no Connect handler for ${procedure}`);
  }
  return (req, res, procedure, body) => {
    const handler = handlers.get(procedure)!;
    const request = { ...universalRequestFromNodeRequest(req, res, undefined, options.contextValues?.(req)), body: body.replay() };
    handler(request)
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        // As connect-node's adapter: a client that left is not worth a log line.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        logger.error({ err: reason, procedure }, "rpc fallback failed");
      });
  };
}
