/** The server's pino logger. Secrets never reach it: request headers are not logged. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "parley", pid: process.pid },
    // Belt and braces: should a header or body ever be logged, these paths are blanked.
    redact: { paths: ["password", "*.password", "accessToken", "*.accessToken", "authorization", "*.authorization", "token", "*.token"], censor: "[redacted]" },
  });
}
