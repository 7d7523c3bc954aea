/**
 * The RPC metrics of one procedure, bound once: its "/package.Service/Method" name, its
 * duration histogram and its per-code counters, so that recording a call builds no label
 * object and hashes no label set.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { Metrics } from "../../observability/metrics.js";

/** One procedure's metrics, as the observe interceptor records them. */
export interface ProcedureMetrics {
  /** "/chat.v1.MessageService/PostMessage". */
  readonly procedure: string;
  /** parley_rpc_duration_seconds{procedure}. */
  readonly seconds: { observe(value: number): void };
  /** Adds one to parley_rpcs_total{procedure, code}. */
  count(code: string): void;
}

/** A lookup of each method's metrics, made on first use and kept for the method's lifetime. */
export function procedureMetrics(metrics: Metrics): (method: DescMethod) => ProcedureMetrics {
  const known = new WeakMap<DescMethod, ProcedureMetrics>();
  return (method) => {
    let observed = known.get(method);
    if (!observed) {
      observed = bind(metrics, `/${method.parent.typeName}/${method.name}`);
      known.set(method, observed);
    }
    return observed;
  };
}

function bind(metrics: Metrics, procedure: string): ProcedureMetrics {
  const counters = new Map<string, { inc(): void }>();
  return {
    procedure,
    seconds: metrics.rpcSeconds.labels({ procedure }),
    count(code) {
      let counter = counters.get(code);
      if (!counter) {
        counter = metrics.rpcs.labels({ procedure, code });
        counters.set(code, counter);
      }
      counter.inc();
    },
  };
}
