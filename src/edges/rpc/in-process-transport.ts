/**
 * The in-process transport of the browser edge (REST, and posts on /ws): calls the very same
 * handlers through the very same interceptors as every RPC, in this process.
 *
 * Unary calls go straight to the handler through the interceptor chain, as connect's own
 * handlers do once a request is decoded — with no request or response serialized, enveloped
 * and parsed back, and no client and server byte pipelines in between. Through connect's
 * router transport, that round trip allocated tens of kilobytes per call, much of which
 * lived long enough to be promoted, so a busy /ws edge drove major GC pauses. What the
 * handler and interceptors see is what the router transport gave them: a fresh handler
 * context and context values, the caller's headers, its abort signal and timeout; errors
 * reach the caller as the ConnectError the observe interceptor made of them.
 * Streaming calls, and anything not registered as a unary method, go through connect's
 * router transport unchanged.
 */
import type { DescMethod, DescMethodUnary, DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
  type MethodImplSpec,
  type Transport,
  type UnaryResponse,
  createContextValues,
  createHandlerContext,
  createMethodImplSpec,
  createRouterTransport,
  createServiceImplSpec,
} from "@connectrpc/connect";
import { invokeUnaryImplementation } from "@connectrpc/connect/protocol";

type UnarySpec = MethodImplSpec & { readonly kind: "unary" };

/** Why a finished call's handler signal is aborted (a shared reason: no DOMException per call). */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

/** A Transport to `routes` with `interceptors` applied, unary calls without serialization. */
export function createInProcessTransport(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]): Transport {
  const unaries = new Map<DescMethod, UnarySpec>();
  const router = createRouterTransport((real) => routes(recording(real, unaries)), { router: { interceptors } });
  return {
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      router.stream(method, signal, timeoutMs, header, input, contextValues),
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const spec = unaries.get(method);
      if (!spec) return router.unary(method, signal, timeoutMs, header, input, contextValues);
      return invoke(spec, interceptors, method, signal, timeoutMs, header, input);
    },
  };
}

async function invoke<I extends DescMessage, O extends DescMessage>(
  spec: UnarySpec,
  interceptors: Interceptor[],
  method: DescMethodUnary<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: MessageInitShape<I>,
): Promise<UnaryResponse<I, O>> {
  const context = createHandlerContext({
    service: method.parent,
    method,
    protocolName: "in-process",
    requestMethod: "POST",
    url: `https://in-memory/${method.parent.typeName}/${method.name}`,
    requestHeader: header,
    contextValues: createContextValues(),
    timeoutMs,
    requestSignal: signal,
  });
  try {
    const message = await invokeUnaryImplementation(spec, context, create(method.input, input), interceptors);
    return {
      stream: false,
      service: method.parent,
      method,
      header: context.responseHeader,
      trailer: context.responseTrailer,
      message: message as UnaryResponse<I, O>["message"],
    };
  } finally {
    // Releases the listeners the handler signal put on the caller's signal.
    context.abort(CALL_ENDED);
  }
}

/** A router that registers everything with `real` and notes each unary method's implementation in `unaries`. */
function recording(real: ConnectRouter, unaries: Map<DescMethod, UnarySpec>): ConnectRouter {
  const keep = (spec: MethodImplSpec) => {
    if (spec.kind === "unary") unaries.set(spec.method, spec);
  };
  return {
    handlers: real.handlers,
    service(service, implementation, options) {
      for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) keep(spec);
      real.service(service, implementation, options);
      return this;
    },
    rpc(method, impl, options) {
      keep(createMethodImplSpec(method, impl));
      real.rpc(method, impl, options);
      return this;
    },
  };
}
