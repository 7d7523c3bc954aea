/**
 * The driver settings that decide how Parley behaves when Cassandra is slow, paused or gone:
 * one statement waits at most `requestTimeoutMs` for its coordinator and is not retried after
 * that wait (the caller's retry is the retry), so a call that needs Cassandra answers UNAVAILABLE
 * within about that bound instead of hanging; connections that were lost are re-opened at least
 * once a second, so service resumes within about a second of Cassandra's return.
 */
import cassandra from "cassandra-driver";

const { policies, types } = cassandra;

/** What the driver needs from the store's options. */
export interface DriverSettings {
  readonly contactPoints: readonly string[];
  readonly localDc: string;
  readonly consistency: number;
  readonly requestTimeoutMs: number;
}

/**
 * The driver's default policy, except that a statement whose coordinator did not answer within
 * the request timeout fails at once instead of being tried again on the next host: a second wait
 * would double the time a caller waits when the whole cluster is unreachable. A connection that
 * broke or a host that is down still moves an idempotent statement to the next host (no wait).
 */
class NoRetryAfterTimeout extends policies.retry.RetryPolicy {
  override onRequestError(info: cassandra.policies.retry.OperationInfo, consistency: cassandra.types.consistencies, err: Error) {
    if (err instanceof cassandra.errors.OperationTimedOutError) return this.rethrowResult();
    return super.onRequestError(info, consistency, err);
  }
}

/** Reconnection starts after 100 ms and backs off to one attempt a second, never longer. */
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 1_000;

/** Client options for the store: token-aware routing in the local DC, bounded waits, fast reconnection. */
export function clientOptions(settings: DriverSettings): cassandra.ClientOptions {
  const { TokenAwarePolicy, DCAwareRoundRobinPolicy } = policies.loadBalancing;
  return {
    contactPoints: [...settings.contactPoints],
    localDataCenter: settings.localDc,
    policies: {
      loadBalancing: new TokenAwarePolicy(new DCAwareRoundRobinPolicy(settings.localDc)),
      retry: new NoRetryAfterTimeout(),
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(RECONNECT_BASE_MS, RECONNECT_MAX_MS, false),
    },
    // SERIAL, not LOCAL_SERIAL: a name must be unique across data centres.
    queryOptions: { consistency: settings.consistency, serialConsistency: types.consistencies.serial, prepare: true },
    encoding: { useBigIntAsLong: true },
    // readTimeout bounds each statement, counted from when it is queued on a connection.
    socketOptions: { readTimeout: settings.requestTimeoutMs },
  };
}
