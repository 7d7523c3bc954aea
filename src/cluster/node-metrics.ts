/**
 * /metrics for a node of several processes (WORKERS > 1). Whichever worker takes a scrape asks
 * the primary, which collects a snapshot from every live worker and its own, sums them with
 * prom-client's AggregatorRegistry.aggregate, and answers with the text: consecutive scrapes read
 * one node, whichever worker answers them. Counters are counted where their event happens — RPCs
 * in the worker that served them, messages stored in the primary when it is the node's writer —
 * and summed; each process's runtime metrics keep their own `worker` label.
 *
 * The messages go over the processes' IPC channels directly (not batched: a scrape is rare). A
 * worker that does not answer within COLLECT_TIMEOUT_MS (starting, stopping, stuck) is left out of
 * that scrape; its counters are missing from that one answer only.
 */
import { AggregatorRegistry } from "prom-client";
import type { Logger } from "../observability/logger.js";
import type { Metrics, MetricsSnapshot } from "../observability/metrics.js";
import type { RelayCluster, RelayWorker } from "./ipc.js";

const COLLECT_TIMEOUT_MS = 2_000;
const SCRAPE_TIMEOUT_MS = 5_000;

/** Primary → worker: send your snapshot. */
interface CollectRequest {
  readonly parleyMetricsCollect: number;
}
/** Worker → primary: my snapshot. */
interface CollectReply {
  readonly parleyMetricsSnapshot: { readonly ref: number; readonly snapshot: MetricsSnapshot[] };
}
/** Worker → primary: the node's exposition text, please. */
interface ScrapeRequest {
  readonly parleyMetricsScrape: number;
}
/** Primary → worker: the node's exposition text, or why there is none. */
interface ScrapeReply {
  readonly parleyMetricsText: { readonly ref: number; readonly text?: string; readonly error?: string };
}

const has = <K extends string>(message: unknown, key: K): message is Record<K, unknown> =>
  typeof message === "object" && message !== null && key in message;

/**
 * A snapshot as it crosses the IPC channel, which speaks JSON: NaN and ±Infinity (a gauge with
 * no sample yet, a histogram's +Inf) would arrive as null, which prom-client prints as "+Inf";
 * they travel as strings and are numbers again on arrival.
 */
function portable(snapshot: MetricsSnapshot[]): MetricsSnapshot[] {
  return snapshot.map((registry) =>
    registry.map((metric) => ({ ...metric, values: metric.values.map((v) => (Number.isFinite(v.value) ? v : { ...v, value: String(v.value) as unknown as number })) })),
  );
}

function restored(snapshot: MetricsSnapshot[]): MetricsSnapshot[] {
  return snapshot.map((registry) =>
    registry.map((metric) => ({ ...metric, values: metric.values.map((v) => (typeof v.value === "string" ? { ...v, value: Number(v.value) } : v)) })),
  );
}

/** A worker's IPC channel to its primary (node's `process` in a cluster worker). */
export interface PrimaryChannel {
  send?(message: unknown): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
}

/**
 * In a worker: answers the primary's collect requests with `metrics`' snapshot, and makes
 * `metrics.exposition()` return the node's text, asked of the primary.
 */
export function joinNodeMetrics(metrics: Metrics, primary: PrimaryChannel = process): void {
  let nextRef = 1;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  primary.on("message", (message: unknown) => {
    if (has(message, "parleyMetricsCollect")) {
      const ref = (message as unknown as CollectRequest).parleyMetricsCollect;
      void metrics.snapshot().then((snapshot) => primary.send?.({ parleyMetricsSnapshot: { ref, snapshot: portable(snapshot) } } satisfies CollectReply));
    } else if (has(message, "parleyMetricsText")) {
      const { ref, text, error } = (message as unknown as ScrapeReply).parleyMetricsText;
      const pending = waiting.get(ref);
      waiting.delete(ref);
      if (text !== undefined) pending?.resolve(text);
      else pending?.reject(new Error(`the primary could not collect the node's metrics: ${error ?? "unknown error"}`));
    }
  });
  metrics.exposition = () =>
    new Promise<string>((resolve, reject) => {
      const ref = nextRef++;
      const timer = setTimeout(() => {
        waiting.delete(ref);
        reject(new Error("the primary did not answer a metrics scrape in time"));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(ref, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      if (!primary.send?.({ parleyMetricsScrape: ref } satisfies ScrapeRequest)) waiting.get(ref)?.reject(new Error("no IPC channel to the primary"));
    });
}

/** In the primary: answers every worker's scrape with the node's metrics, `own` included. Returns the function that stops it. */
export function serveNodeMetrics(cluster: RelayCluster, own: Metrics, logger: Logger): () => void {
  let nextRef = 1;
  const collecting = new Map<number, (snapshot: MetricsSnapshot[]) => void>();

  const collectFrom = (worker: RelayWorker): Promise<MetricsSnapshot[]> =>
    new Promise((resolve) => {
      const ref = nextRef++;
      const timer = setTimeout(() => {
        collecting.delete(ref);
        resolve([]);
      }, COLLECT_TIMEOUT_MS);
      collecting.set(ref, (snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      worker.send({ parleyMetricsCollect: ref } satisfies CollectRequest);
    });

  const nodeText = async (): Promise<string> => {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is RelayWorker => w?.isConnected() === true);
    const snapshots = await Promise.all([own.snapshot(), ...workers.map(collectFrom)]);
    return AggregatorRegistry.aggregate(snapshots.flat()).metrics();
  };

  const onMessage = (worker: RelayWorker, message: unknown): void => {
    if (has(message, "parleyMetricsSnapshot")) {
      const { ref, snapshot } = (message as unknown as CollectReply).parleyMetricsSnapshot;
      const done = collecting.get(ref);
      collecting.delete(ref);
      done?.(restored(snapshot));
    } else if (has(message, "parleyMetricsScrape")) {
      const ref = (message as unknown as ScrapeRequest).parleyMetricsScrape;
      const reply = (body: ScrapeReply["parleyMetricsText"]) => {
        if (worker.isConnected()) worker.send({ parleyMetricsText: body } satisfies ScrapeReply);
      };
      nodeText().then(
        (text) => reply({ ref, text }),
        (error: unknown) => {
          logger.error({ err: error }, "aggregating the node's metrics failed");
          reply({ ref, error: error instanceof Error ? error.message : String(error) });
        },
      );
    }
  };
  cluster.on("message", onMessage);
  return () => cluster.off("message", onMessage);
}
