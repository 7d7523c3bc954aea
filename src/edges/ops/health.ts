import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";

/** A status a service can be set to. */
export type ServingState = "SERVING" | "NOT_SERVING";

/** The name under which the server's overall health is reported (the empty service name, per the gRPC spec). */
export const OVERALL = "";

/**
 * The serving status of the server and of named services, as reported by `grpc.health.v1.Health`.
 * The overall status (service `""`) starts SERVING; other services are unknown until set. After `shutdown()`
 * (the start of a node's drain) every known service reads NOT_SERVING for good and further `set` calls are
 * ignored; watches report it and stay open until their own signal ends them.
 */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>([[OVERALL, ServingStatus.SERVING]]);
  private changed = signalled();
  private closed = false;

  /** Sets the status of `service` (`OVERALL` for the whole server); watchers see it unless it is unchanged. */
  set(service: string, state: ServingState): void {
    if (this.closed) return;
    this.statuses.set(service, ServingStatus[state]);
    this.notify();
  }

  /** The status of `service`, or `undefined` if it was never set. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** A snapshot of every known service and its status. */
  all(): ReadonlyMap<string, ServingStatus> {
    return new Map(this.statuses);
  }

  /** True once shutdown() was called. */
  get stopped(): boolean {
    return this.closed;
  }

  /** Marks every known service NOT_SERVING for good; every watch delivers that and stays open. */
  shutdown(): void {
    if (this.closed) return;
    for (const service of this.statuses.keys()) this.statuses.set(service, ServingStatus.NOT_SERVING);
    this.closed = true;
    this.notify();
  }

  /**
   * Yields the status of `service` now (SERVICE_UNKNOWN if never set), then each time it changes; rapid changes
   * coalesce to the latest. Ends when `signal` aborts.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const aborted = signalled();
    const onAbort = (): void => aborted.resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      let last: ServingStatus | undefined;
      while (!signal.aborted) {
        const changed = this.changed.promise; // taken before reading, so no change is missed
        const current = this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) {
          last = current;
          yield current;
        }
        await Promise.race([changed, aborted.promise]);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private notify(): void {
    const previous = this.changed;
    this.changed = signalled();
    previous.resolve();
  }
}

/** A promise and the function that settles it. */
function signalled(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Serves `grpc.health.v1.Health` from `status`: Check answers NOT_FOUND for an unknown service; Watch follows the
 * spec (SERVICE_UNKNOWN for an unknown service, the stream stays open) and ends when the call is cancelled or the
 * server ends its handlers (`ctx.signal`) — with UNAVAILABLE once `status` is shut down, so a watcher can tell a
 * stopping server (reconnect elsewhere) from a normal end; List returns a snapshot.
 */
export function registerHealth(router: ConnectRouter, status: HealthStatus): void {
  router.service(Health, {
    check(req) {
      const current = status.get(req.service);
      if (current === undefined) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: current };
    },
    async *watch(req, ctx) {
      for await (const current of status.watch(req.service, ctx.signal)) yield { status: current };
      if (status.stopped) throw new ConnectError("server is stopping: reconnect", Code.Unavailable);
    },
    list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [service, current] of status.all()) statuses[service] = { status: current };
      return { statuses };
    },
  });
}
