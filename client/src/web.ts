/** @parley/client for browsers: the client over Connect-Web, speaking Connect or gRPC-Web over fetch. */
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { type ClientOptions, createParleyClient as createClientOver, type ParleyClient } from "./client.js";

export * from "./index.js";

/** The protocols a browser speaks. */
export type WebProtocol = "connect" | "grpc-web";

export type WebClientOptions = ClientOptions & {
  /** The server, e.g. `location.origin`. */
  baseUrl: string;
  /** Default "connect". */
  transport?: WebProtocol;
  /** Protobuf binary (default) or JSON (readable in the browser's network panel). */
  binary?: boolean;
  /** Extra interceptors, run for every call. */
  interceptors?: Interceptor[];
  /** A fetch to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
};

/** A Parley client for a web page; see ParleyClient. */
export function createParleyClient(options: WebClientOptions): ParleyClient {
  const settings = {
    baseUrl: options.baseUrl,
    useBinaryFormat: options.binary ?? true,
    interceptors: options.interceptors ?? [],
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const transport: Transport = options.transport === "grpc-web" ? createGrpcWebTransport(settings) : createConnectTransport(settings);
  return createClientOver({ ...options, transport });
}
