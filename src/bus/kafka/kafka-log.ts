/**
 * Routes kafkajs's own log lines into the server's pino logger (component "kafkajs") instead of
 * the console. The Kafka client is created at WARN, so only problems reach the log.
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
        log.error(record, message);
        break;
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
