/**
 * Composition root: config → logger → app; then wait for SIGTERM/SIGINT and stop gracefully
 * (drain for SHUTDOWN_GRACE_SECONDS — a second signal cuts it short —, stop accepting, end what
 * is left, flush and close the store, exit 0). With WORKERS > 1 this process becomes the cluster
 * primary (cluster/primary.ts) and each worker it forks runs the app, stopping when the primary
 * asks (cluster/worker-lifecycle.ts). A failed start prints one line (startup-error.ts).
 */
import cluster from "node:cluster";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { startApp } from "./app.js";
import { isStopRequest, type StartFailure } from "./cluster/worker-lifecycle.js";
import { startFailureText } from "./startup-error.js";

/** How long a process stopping after an uncaught exception may take before it exits anyway. */
const FAULT_STOP_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`parley: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import("./cluster/primary.js");
    return runPrimary(config, logger);
  }
  const app = await startApp(config, logger);
  let stopping = false;
  const stop = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    app.close().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal: stop now, without waiting for the rest of the grace period.
    if (++signals > 1) app.hurry();
    stop(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  if (cluster.isWorker) {
    // A worker whose primary is gone stops too, at once: nothing writes its messages any more.
    process.on("disconnect", () => {
      app.hurry();
      stop("primary gone");
    });
    process.on("message", (message: unknown) => {
      if (!isStopRequest(message)) return;
      if (message.parleyStop === "now") app.hurry();
      stop("stop requested by the primary");
    });
  }
  // Last resort, not a handler: every client input has its own error path (the e2e tests show
  // bystanders untouched and nothing logged at error). An exception nothing caught is a bug that
  // leaves state no one can trust, so it is logged with its stack and the process stops at once
  // (no grace period) — open streams told to reconnect, the store closed cleanly — exiting 1, for
  // the cluster primary or the supervisor to start it again. Unhandled rejections arrive here too.
  process.on("uncaughtException", (error, origin) => {
    logger.fatal({ err: error, origin }, "uncaught exception: stopping");
    setTimeout(() => process.exit(1), FAULT_STOP_MS).unref();
    app.hurry();
    stop("uncaught exception", 1);
  });
}

main().catch((error: unknown) => {
  const text = startFailureText(error);
  // A worker tells its primary, which prints it once for the node (cluster/primary.ts).
  if (cluster.isWorker && process.send) {
    process.send({ parleyStartFailed: text } satisfies StartFailure, () => process.exit(1));
    return;
  }
  process.stderr.write(`parley: ${text}\n`);
  process.exit(1);
});
