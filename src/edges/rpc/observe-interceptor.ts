/**
 * The outermost interceptor: maps every error to a Connect error (domain errors keep their
 * message, others become INTERNAL and are logged with their cause), and writes one log line and
 * the metrics of each RPC — procedure, code, duration, user id. Streams are logged when they end.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { callerKey } from "../../auth/auth-context.js";
import { codeName, toConnectError } from "../error-mapping.js";

export function observeInterceptor(logger: Logger, metrics: Metrics): Interceptor {
  return (next) => async (req) => {
    const procedure = `/${req.service.typeName}/${req.method.name}`;
    const started = performance.now();
    const finish = (error: unknown): ConnectError | undefined => {
      const mapped = error === undefined ? undefined : toConnectError(error);
      const code = mapped ? codeName(mapped.error.code) : "ok";
      const seconds = (performance.now() - started) / 1000;
      metrics.rpcs.inc({ procedure, code });
      metrics.rpcSeconds.observe({ procedure }, seconds);
      const line = { procedure, code, ms: Math.round(seconds * 1000), user: req.contextValues.get(callerKey)?.userId, protocol: req.header.get("content-type") ?? undefined };
      if (mapped?.internal) logger.error({ ...line, err: mapped.error.cause ?? mapped.error }, "rpc failed");
      else logger.info(line, "rpc");
      return mapped?.error;
    };
    let res;
    try {
      res = await next(req);
    } catch (error) {
      throw finish(error);
    }
    if (!res.stream) {
      finish(undefined);
      return res;
    }
    const messages = res.message;
    metrics.openStreams.inc({ transport: "rpc" });
    return {
      ...res,
      message: (async function* () {
        let ended = false;
        try {
          yield* messages;
        } catch (error) {
          ended = true;
          // A client that leaves its stream is not an error of ours.
          if (error instanceof ConnectError && error.code === Code.Canceled) {
            finish(undefined);
            throw error;
          }
          throw finish(error);
        } finally {
          metrics.openStreams.dec({ transport: "rpc" });
          if (!ended) finish(undefined);
        }
      })(),
    };
  };
}
