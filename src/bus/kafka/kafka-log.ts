/**
 * Routes kafkajs's own log lines into the server's pino logger (component "kafkajs") instead of
 * the console. The Kafka client is created at WARN, so only problems reach the log.
 *
 * kafkajs logs at ERROR what it then retries — a broker restarting, a leader being elected, a
 * topic another node created first — which is an engine event, not a fault of this server: those
 * lines are warnings here. What the bus cannot recover from, Parley's own code logs at error (a
 * failed start) or answers as UNAVAILABLE (a failed append), so an error-level line still means a
 * server fault.
 */
import kafkajs, { type LogEntry, type logCreator } from "kafkajs";
import type { Logger } from "../../observability/logger.js";

const { logLevel } = kafkajs;

/** A kafkajs logCreator writing to `logger`; the entry's extra fields become pino fields. */
export function pinoLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: "kafkajs" });
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = entry.log;
    const record = { namespace: entry.namespace, ...fields };
    switch (entry.level) {
      case logLevel.ERROR:
      case logLevel.NOTHING:
      case logLevel.WARN:
        log.warn(record, message);
        break;
      case logLevel.INFO:
        log.info(record, message);
        break;
      default:
        log.debug(record, message);
    }
  };
}
