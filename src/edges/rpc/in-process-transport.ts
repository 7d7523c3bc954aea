/**
 * The in-process transport of the browser edge (REST, and posts on /ws): calls the very same
 * handlers through the very same interceptors as every RPC, in this process.
 *
 * Unary calls go straight to the handler through the interceptor chain (unary-calls.ts), with
 * no request or response serialized, enveloped and parsed back, and no client and server byte
 * pipelines in between. Through connect's router transport, that round trip allocated tens of
 * kilobytes per call, much of which lived long enough to be promoted, so a busy /ws edge drove
 * major GC pauses. What the handler and interceptors see is what the router transport gave
 * them: a fresh handler context and context values, the caller's headers, its abort signal and
 * timeout; errors reach the caller as the ConnectError the observe interceptor made of them.
 * Streaming calls, and anything not registered as a unary method, go through connect's router
 * transport unchanged.
 */
import type { DescMessage, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { type ConnectRouter, type ContextValues, type Transport, type UnaryResponse, createRouterTransport } from "@connectrpc/connect";
import type { UnaryCalls } from "./unary-calls.js";

/** A Transport to `routes` through `calls`' interceptors, unary calls without serialization. */
export function createInProcessTransport(routes: (router: ConnectRouter) => void, calls: UnaryCalls): Transport {
  const router = createRouterTransport(calls.record(routes), { router: { interceptors: calls.interceptors } });
  return {
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      router.stream(method, signal, timeoutMs, header, input, contextValues),
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const spec = calls.byMethod(method);
      if (!spec) return router.unary(method, signal, timeoutMs, header, input, contextValues);
      const result = await calls.invoke(spec, {
        protocolName: "in-process",
        url: `https://in-memory/${method.parent.typeName}/${method.name}`,
        header,
        signal,
        timeoutMs,
        input: create(method.input, input),
      });
      return {
        stream: false,
        service: method.parent,
        method,
        header: result.header,
        trailer: result.trailer,
        message: result.message as UnaryResponse<I, O>["message"],
      };
    },
  };
}
