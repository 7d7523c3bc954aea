/**
 * @parley/client for Node: the client over connect-node, speaking Connect (HTTP/1.1 or h2c),
 * gRPC (h2c) or gRPC-Web. A connection found dead by a subscription is dropped, so the next call
 * opens a fresh one instead of waiting on it.
 */
import { Agent } from "node:http";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type ClientOptions, createParleyClient as createClientOver, type ParleyClient } from "./client.js";

export * from "./index.js";

/** The protocols connect-node speaks. */
export type NodeProtocol = "connect" | "grpc" | "grpc-web";

export type NodeClientOptions = ClientOptions & {
  /** The server, e.g. "http://localhost:8080". */
  baseUrl: string;
  /** Default "connect". */
  transport?: NodeProtocol;
  /** HTTP version for Connect and gRPC-Web (default "1.1"); gRPC is always HTTP/2. */
  httpVersion?: "1.1" | "2";
  /** Protobuf binary (default) or JSON, for Connect and gRPC-Web. */
  binary?: boolean;
  /** Extra interceptors (logging, tracing), run for every call. */
  interceptors?: Interceptor[];
  /** HTTP/2 keep-alive: a PING after this much silence (default 10 s), dead without an answer in `pingTimeoutMs` (default 5 s). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
};

/** A Parley client for a Node service; see ParleyClient. */
export function createParleyClient(options: NodeClientOptions): ParleyClient {
  const { transport, drop } = nodeTransport(options);
  return createClientOver({ ...options, transport, onDeadConnection: drop });
}

/** The transport, and how to drop its connections when one is found dead. */
function nodeTransport(options: NodeClientOptions): { transport: Transport; drop: () => void } {
  const protocol = options.transport ?? "connect";
  const common = { baseUrl: options.baseUrl, interceptors: options.interceptors ?? [], useBinaryFormat: options.binary ?? true };
  if (protocol === "grpc" || options.httpVersion === "2") {
    const sessionManager = new Http2SessionManager(options.baseUrl, {
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      pingTimeoutMs: options.pingTimeoutMs ?? 5_000,
    });
    const h2 = { ...common, httpVersion: "2" as const, sessionManager };
    const transport =
      protocol === "grpc" ? createGrpcTransport(h2) : protocol === "grpc-web" ? createGrpcWebTransport(h2) : createConnectTransport(h2);
    return { transport, drop: () => sessionManager.abort(new Error("connection found dead: no frame for two heartbeats")) };
  }
  // One agent per client, so that dropping its idle sockets touches no one else's.
  const agent = new Agent({ keepAlive: true });
  const h1 = { ...common, httpVersion: "1.1" as const, nodeOptions: { agent } };
  const transport = protocol === "grpc-web" ? createGrpcWebTransport(h1) : createConnectTransport(h1);
  const drop = (): void => {
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  };
  return { transport, drop };
}
