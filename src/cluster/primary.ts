/**
 * The primary process of a multi-process node (WORKERS > 1): it serves no requests itself. It
 * forks the workers — each a full Parley on the same port (Node cluster hands out connections
 * round-robin), with its own WORKER_ID (base + index) so message ids stay unique — relays the
 * bus between them (cluster-bus.ts), holds the node's rate-limit buckets
 * (node-buckets.ts), restarts a worker that dies, and on SIGTERM/SIGINT
 * stops them all gracefully before exiting.
 *
 * On SQLite (`sequencedAppends`) the primary is also the node's message writer
 * (sequenced-appends.ts): it opens the file first (migrating a fresh one), so ids, commits and
 * live delivery share one order across the workers. The first worker starts alone (it creates
 * the token key on a fresh data directory); the others start once it listens. When all listen the primary logs
 * "parley cluster listening" and, if it was started with an IPC channel (a supervisor, the
 * bench), sends it {"parley":"ready"}. A stop signal is passed on to the workers as a stop
 * request (worker-lifecycle.ts): each drains for the grace period, then stops; a second signal ends
 * their grace periods at once.
 */
import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config.js";
import type { Logger } from "../observability/logger.js";
import { relayBus } from "./cluster-bus.js";
import { openSqlite } from "../adapters.js";
import { SnowflakeGenerator } from "../domain/ids.js";
import type { Store } from "../store/store.js";
import { startSequencer } from "./sequenced-appends.js";
import { serveNodeBuckets } from "./node-buckets.js";
import { batchingCluster } from "./ipc.js";
import { withServerFlags } from "../node-flags.js";
import { isStartFailure, type StopRequest } from "./worker-lifecycle.js";
import { StartupError } from "../startup-error.js";
import { Metrics, countPosted } from "../observability/metrics.js";
import { serveNodeMetrics } from "./node-metrics.js";

const RESTART_DELAY_MS = 1000;
/** How long workers may take to stop after their grace period before they are killed. */
const STOP_TIMEOUT_MS = 20_000;

export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  let stopping = false;
  const byIndex = new Map<number, Worker>();
  // Every channel to a worker sends one IPC message per event-loop turn (ipc.ts).
  const workers = batchingCluster(cluster);
  const relay = relayBus(workers);
  // The node's rate-limit buckets: workers lease their tokens here, so every limit holds for the node.
  const stopBuckets = serveNodeBuckets(workers, config.rateLimit);
  // The node's /metrics: the workers ask here, and the primary counts what it does itself.
  const metrics = new Metrics("primary");
  const stopMetrics = serveNodeMetrics(cluster, metrics, logger);
  let store: Store | undefined;
  let stopSequencer = () => {};
  if (config.sequencedAppends) {
    store = openSqlite(config, logger);
    // Workers take WORKER_ID + 0..WORKERS-1; the primary's messages carry the next worker id.
    const ids = new SnowflakeGenerator(config.workerId + config.workers);
    stopSequencer = startSequencer({ cluster: workers, store, ids, broadcast: relay.broadcast, onStored: (m) => countPosted(metrics, m) });
  }

  // Workers hold the connections: they run with the server's Node flags even if the primary was started without them.
  cluster.setupPrimary({ execArgv: withServerFlags(process.execArgv) });
  let port = config.port;
  /** Workers that listen, and so take a stop request over IPC (main.ts); others are sent SIGTERM. */
  const listening = new WeakSet<Worker>();
  /** False until every worker of the start listens: a worker that fails before fails the start. */
  let started = false;
  const fork = (index: number): Promise<Worker> => {
    const worker = cluster.fork({ WORKER_ID: String(config.workerId + index), PARLEY_WORKER_INDEX: String(index) });
    byIndex.set(index, worker);
    let failure: string | undefined;
    const onMessage = (message: unknown) => {
      if (isStartFailure(message)) failure = message.parleyStartFailed;
    };
    worker.on("message", onMessage);
    worker.once("exit", (code, signal) => {
      if (byIndex.get(index) === worker) byIndex.delete(index);
      if (stopping || (!started && !listening.has(worker))) return;
      logger.error({ worker: index, code, signal, ...(failure ? { failure } : {}) }, "worker died; restarting");
      setTimeout(() => {
        if (!stopping) fork(index).catch(() => undefined); // its exit is logged above
      }, RESTART_DELAY_MS);
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new StartupError(failure ?? `worker ${index} exited with ${code} before listening`));
      worker.once("exit", onExit);
      // A worker's first listening address is the node's port (app.ts opens METRICS_PORT's after it).
      worker.once("listening", (address) => {
        listening.add(worker);
        worker.off("message", onMessage);
        port = address.port;
        worker.off("exit", onExit);
        resolve(worker);
      });
    });
  };

  const tell = (worker: Worker, request: StopRequest): void => {
    if (listening.has(worker) && worker.isConnected()) worker.send(request);
    else if (!worker.isDead()) worker.process.kill("SIGTERM");
  };
  /** Waits for every worker to exit (killing those that take too long), then closes what the primary holds. */
  const stopped = async (): Promise<void> => {
    const alive = [...byIndex.values()];
    const force = setTimeout(() => {
      for (const worker of alive) if (!worker.isDead()) worker.process.kill("SIGKILL");
    }, config.shutdownGraceMs + STOP_TIMEOUT_MS);
    await Promise.all(alive.map((w) => (w.isDead() ? undefined : new Promise((r) => w.once("exit", r)))));
    clearTimeout(force);
    stopSequencer();
    stopBuckets();
    stopMetrics();
    relay.stop();
    await store?.close();
  };
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: the workers skip the rest of their grace period.
      for (const worker of byIndex.values()) tell(worker, { parleyStop: "now" });
      return;
    }
    stopping = true;
    logger.info({ signal }, "stopping workers");
    for (const worker of byIndex.values()) tell(worker, { parleyStop: "drain" });
    stopped().then(
      () => {
        logger.info("parley cluster stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "closing the store failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  try {
    await fork(0);
    await Promise.all(Array.from({ length: config.workers - 1 }, (_, i) => fork(i + 1)));
  } catch (error) {
    // The start failed: stop the workers that did start, without a grace period, and report it once (main.ts).
    stopping = true;
    for (const worker of byIndex.values()) tell(worker, { parleyStop: "now" });
    await stopped().catch(() => undefined);
    throw error;
  }
  started = true;
  logger.info({ workers: config.workers, port, host: config.host, bus: config.bus, sequencedAppends: config.sequencedAppends }, "parley cluster listening");
  process.send?.({ parley: "ready", workers: config.workers, port });
}
