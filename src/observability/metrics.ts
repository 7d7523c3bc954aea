/** Prometheus metrics (prom-client), served at GET /metrics. One registry per server instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly rpcs = new Counter({
    name: "parley_rpcs_total",
    help: "RPCs and REST calls handled, by procedure and result code",
    labelNames: ["procedure", "code"] as const,
    registers: [this.registry],
  });
  readonly rpcSeconds = new Histogram({
    name: "parley_rpc_duration_seconds",
    help: "Time to answer a unary RPC (streams: time until they ended)",
    labelNames: ["procedure"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({
    name: "parley_open_streams",
    help: "Realtime streams open on this node, by transport",
    labelNames: ["transport"] as const,
    registers: [this.registry],
  });
  readonly fastStreams = new Counter({
    name: "parley_rpc_fast_streams_total",
    help: "Subscribe RPC streams served by the edge's fast path (not connect-node), by wire protocol",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });
  readonly fastUnaryCalls = new Counter({
    name: "parley_grpc_fast_unary_calls_total",
    help: "Unary gRPC calls served by the edge's fast path (not connect-node), by procedure",
    labelNames: ["procedure"] as const,
    registers: [this.registry],
  });
  readonly messagesPosted = new Counter({
    name: "parley_messages_posted_total",
    help: "Messages stored, by kind (room or direct)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly queueDrops = new Counter({
    name: "parley_stream_queue_drops_total",
    help: "Streams ended because their client read too slowly (bounded queue full)",
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "parley_rate_limited_total",
    help: "Requests refused by a rate limit, by limit",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: "parley_connections_closed_total",
    help: "Connections refused by the per-address cap, or ended (HTTP/2: sessions, streams) by a connection timeout, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly busLag = new Gauge({
    name: "parley_bus_consumer_lag",
    help: "Messages the bus consumer is behind the newest offset (Kafka only)",
    labelNames: ["topic"] as const,
    registers: [this.registry],
  });

  /** Set by the composition root: how many hub deliveries so far. */
  readDeliveries: () => number = () => 0;
  readonly messagesDelivered = new Counter({
    name: "parley_messages_delivered_total",
    help: "Messages handed to live subscribers on this node",
    registers: [this.registry],
  });

  constructor() {
    const read = () => this.readDeliveries();
    new Gauge({
      name: "parley_hub_deliveries",
      help: "Messages handed to live subscribers on this node since start",
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
