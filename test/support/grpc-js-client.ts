/**
 * A @grpc/grpc-js client for any protobuf-es service descriptor: real gRPC over HTTP/2, with
 * (de)serialisation by protobuf-es. No .proto loading at run time, no generated grpc-js stubs.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";

export type GrpcJsClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A client of `service` at `address`; `options` are grpc-js channel options (e.g. its own connection, compression). */
export function grpcJsClient(service: DescService, address: string, options?: grpc.ChannelOptions): GrpcJsClient {
  const definition: Record<string, grpc.MethodDefinition<MessageInitShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (m: MessageInitShape<DescMessage>) => Buffer.from(toBinary(method.input, create(method.input, m))),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
  }
  const Ctor = grpc.makeGenericClientConstructor(definition, service.typeName);
  return new Ctor(address, grpc.credentials.createInsecure(), options) as unknown as GrpcJsClient;
}

/** Metadata carrying a bearer token. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
}

/** Calls a unary method and resolves with its response, or rejects with the grpc ServiceError. */
export function unary<T>(client: GrpcJsClient, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: T) => void) => void;
    fn.call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Opens a server stream. */
export function serverStream<T>(client: GrpcJsClient, method: string, request: unknown, metadata = new grpc.Metadata()): grpc.ClientReadableStream<T> {
  const fn = client[method] as (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<T>;
  return fn.call(client, request, metadata);
}
