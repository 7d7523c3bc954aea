/**
 * The outermost interceptor: maps every error to a Connect error (domain errors keep their
 * message, others become INTERNAL and are logged with their cause), and records the metrics of
 * each RPC — procedure, code, duration — and its log line (procedure, code, duration, user id).
 *
 * What is logged at which level: failures at info (INTERNAL at error, with the cause — unless
 * the client left, which is never a fault of ours), streams at info when they end, and
 * successful unary calls at debug only. A busy node answers thousands of unary calls a second; a line for each would cost more than the call's own work
 * (and the log volume with it) while saying nothing the parley_rpcs_total and
 * parley_rpc_duration_seconds metrics do not — so with LOG_LEVEL=info they are counted, not
 * logged, and no log object is built for them.
 */
import { Code, ConnectError, type Interceptor, type UnaryRequest, type StreamRequest } from "@connectrpc/connect";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { callerKey } from "../../auth/auth-context.js";
import { codeName, toConnectError } from "../http/error-mapping.js";
import { procedureMetrics, type ProcedureMetrics } from "./procedure-metrics.js";

type Request = UnaryRequest | StreamRequest;

/** Counts, times and logs one finished call; returns the Connect error to throw, if any. */
function finish(
  logger: Logger,
  observed: ProcedureMetrics,
  req: Request,
  started: number,
  error: unknown,
  successLevel: "info" | "debug",
): ConnectError | undefined {
  const mapped = error === undefined ? undefined : toConnectError(error);
  const code = mapped ? codeName(mapped.error.code) : "ok";
  const seconds = (performance.now() - started) / 1000;
  observed.count(code);
  observed.seconds.observe(seconds);
  const level = mapped?.internal ? "error" : mapped ? "info" : successLevel;
  if (!logger.isLevelEnabled(level)) return mapped?.error;
  const line = {
    procedure: observed.procedure,
    code,
    ms: Math.round(seconds * 1000),
    user: req.contextValues.get(callerKey)?.userId,
    protocol: req.header.get("content-type") ?? undefined,
  };
  if (mapped?.internal) logger.error({ ...line, err: mapped.error.cause ?? mapped.error }, "rpc failed");
  else logger[level](line, "rpc");
  return mapped?.error;
}

/**
 * True when the call failed because its client left: it cancelled, or reset its HTTP/2 stream
 * with an error code — which connect-node turns into the call signal's reason, INTERNAL for
 * PROTOCOL_ERROR, INTERNAL_ERROR and the like. Not a fault of ours, whatever the code says. (A
 * call that fails with the signal's reason because the server is stopping counts the same: no
 * fault either. A deadline the client set keeps its own code.)
 */
function clientLeft(req: Request, error: unknown): boolean {
  if (error instanceof ConnectError && error.code === Code.Canceled) return true;
  return req.signal.aborted && error === req.signal.reason && !(error instanceof ConnectError && error.code === Code.DeadlineExceeded);
}

/** A unary call whose client left counts as CANCELED, whatever code the reset carried. */
function asCanceled(error: unknown): ConnectError {
  if (error instanceof ConnectError && error.code === Code.Canceled) return error;
  return new ConnectError(`the client left: ${ConnectError.from(error).rawMessage}`, Code.Canceled);
}

export function observeInterceptor(logger: Logger, metrics: Metrics): Interceptor {
  const metricsOf = procedureMetrics(metrics);
  return (next) => async (req) => {
    const observed = metricsOf(req.method);
    const started = performance.now();
    let res;
    try {
      res = await next(req);
    } catch (error) {
      throw finish(logger, observed, req, started, clientLeft(req, error) ? asCanceled(error) : error, "debug");
    }
    if (!res.stream) {
      finish(logger, observed, req, started, undefined, "debug");
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
          if (clientLeft(req, error)) {
            finish(logger, observed, req, started, undefined, "info");
            throw error;
          }
          throw finish(logger, observed, req, started, error, "info");
        } finally {
          metrics.openStreams.dec({ transport: "rpc" });
          if (!ended) finish(logger, observed, req, started, undefined, "info");
        }
      })(),
    };
  };
}
