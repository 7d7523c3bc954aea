/**
 * Logs an outage of Cassandra once, not once per failed request: the first failure at warn, then
 * at most one warn line per interval saying how many failures it stands for, and one info line
 * when a request succeeds again. An engine that cannot be reached is an operations event (warn),
 * never a server fault (error): the calls it fails answer UNAVAILABLE.
 */
import type { Logger } from "../../observability/logger.js";

/** Failures between two warn lines of one outage. */
const REPEAT_MS = 10_000;

export class OutageLog {
  /** When the ongoing outage's last warn line was written; undefined when Cassandra answers. */
  #loggedAtMs: number | undefined;
  #failuresSinceLog = 0;
  #failures = 0;
  #startedAtMs = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A request failed because Cassandra could not be reached or did not answer. */
  failed(err: unknown, operation: string): void {
    const now = this.now();
    this.#failures++;
    if (this.#loggedAtMs === undefined) {
      this.#startedAtMs = now;
      this.#failures = 1;
    } else if (now - this.#loggedAtMs < REPEAT_MS) {
      this.#failuresSinceLog++;
      return;
    }
    const repeated = this.#failuresSinceLog > 0 ? { failuresSinceLastLine: this.#failuresSinceLog } : {};
    this.logger.warn({ err, operation, ...repeated }, "cassandra did not answer: calls that need it answer UNAVAILABLE");
    this.#loggedAtMs = now;
    this.#failuresSinceLog = 0;
  }

  /** A request succeeded: ends the outage being logged, if any. Cheap when there is none. */
  succeeded(): void {
    if (this.#loggedAtMs === undefined) return;
    this.logger.info({ failures: this.#failures, outageMs: this.now() - this.#startedAtMs }, "cassandra answers again");
    this.#loggedAtMs = undefined;
    this.#failuresSinceLog = 0;
  }
}
