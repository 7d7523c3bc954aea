/**
 * Composition root: config → logger → app; then wait for SIGTERM/SIGINT and stop gracefully
 * (stop accepting, end open streams, flush and close the store, exit 0). With WORKERS > 1 this
 * process becomes the cluster primary (cluster/primary.ts) and each worker it forks runs the app.
 */
import cluster from "node:cluster";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { startApp } from "./app.js";

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
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Last resort, not a handler: every client input has its own error path (the e2e tests show
  // bystanders untouched and nothing logged at error). An exception nothing caught is a bug that
  // leaves state no one can trust, so it is logged with its stack and the process stops as on
  // SIGTERM — open streams told to reconnect, the store closed cleanly — exiting 1, for the
  // cluster primary or the supervisor to start it again. Unhandled rejections arrive here too.
  process.on("uncaughtException", (error, origin) => {
    logger.fatal({ err: error, origin }, "uncaught exception: stopping");
    setTimeout(() => process.exit(1), FAULT_STOP_MS).unref();
    stop("uncaught exception", 1);
  });
  // A worker whose primary is gone stops too.
  if (cluster.isWorker) process.on("disconnect", () => stop("primary gone"));
}

main().catch((error: unknown) => {
  process.stderr.write(`parley: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
