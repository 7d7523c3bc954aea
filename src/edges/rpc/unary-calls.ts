/**
 * The unary methods of the router, callable directly: a decoded request goes through the
 * interceptor chain to the handler, as connect's own handlers do once they have decoded a
 * request — without connect's per-call byte pipelines (async iterables, linked abort
 * controllers, envelope transforms). Two edges call through here: the in-process transport
 * (REST, and posts on /ws) and the gRPC unary fast path. Both see what connect-node's handlers
 * see: a fresh handler context, the caller's headers and context values, its timeout.
 */
import type { DescMessage, DescMethod, DescMethodUnary, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
  type MethodImplSpec,
  createContextValues,
  createHandlerContext,
  createMethodImplSpec,
  createServiceImplSpec,
} from "@connectrpc/connect";
import { invokeUnaryImplementation } from "./connect-private.js";

/** A unary method's implementation, as the router registered it. */
export type UnarySpec = MethodImplSpec & { readonly kind: "unary" };

/** Why a finished call's handler signal is aborted (a shared reason: no DOMException per call). */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

/** One call: who calls, how, and with what. */
export interface UnaryCall<I extends DescMessage = DescMessage> {
  /** "grpc", "in-process"…: what interceptors see as `req.protocolName`. */
  readonly protocolName: string;
  readonly url: string;
  readonly header: HeadersInit | undefined;
  readonly contextValues?: ContextValues | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
  /** Response headers and trailers the protocol starts with (connect's handlers preset them too). */
  readonly responseHeader?: HeadersInit;
  readonly responseTrailer?: HeadersInit;
  readonly input: Message & { $typeName: I["typeName"] };
}

/** A call's outcome: the handler's message, and the headers and trailers it (or an interceptor) set. */
export interface UnaryResult {
  readonly message: Message;
  readonly header: Headers;
  readonly trailer: Headers;
}

/** The unary methods registered through `record(routes)`, and the interceptors every call goes through. */
export class UnaryCalls {
  readonly #byMethod = new Map<DescMethod, UnarySpec>();
  readonly #byPath = new Map<string, UnarySpec>();

  constructor(readonly interceptors: Interceptor[]) {}

  /** `routes`, noting each unary method they register (every router built from them registers the same). */
  record(routes: (router: ConnectRouter) => void): (router: ConnectRouter) => void {
    return (real) => routes(recording(real, (spec) => this.#add(spec)));
  }

  byMethod<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>): UnarySpec | undefined {
    return this.#byMethod.get(method);
  }

  /** The method served at "/package.Service/Method", if it is unary. */
  byPath(path: string): UnarySpec | undefined {
    return this.#byPath.get(path);
  }

  /**
   * Calls the handler through the interceptors. Rejects with the ConnectError the observe
   * interceptor made of a failure; the result's trailer holds what the handler set.
   */
  async invoke(spec: UnarySpec, call: UnaryCall): Promise<UnaryResult> {
    const { method } = spec;
    const context = createHandlerContext({
      service: method.parent,
      method,
      protocolName: call.protocolName,
      requestMethod: "POST",
      url: call.url,
      requestHeader: call.header,
      contextValues: call.contextValues ?? createContextValues(),
      timeoutMs: call.timeoutMs,
      requestSignal: call.signal,
      ...(call.responseHeader ? { responseHeader: call.responseHeader } : {}),
      ...(call.responseTrailer ? { responseTrailer: call.responseTrailer } : {}),
    });
    try {
      const message = await invokeUnaryImplementation(spec, context, call.input, this.interceptors);
      return { message, header: context.responseHeader, trailer: context.responseTrailer };
    } finally {
      // Releases the listeners the handler signal put on the caller's signal.
      context.abort(CALL_ENDED);
    }
  }

  #add(spec: MethodImplSpec): void {
    if (spec.kind !== "unary") return;
    this.#byMethod.set(spec.method, spec);
    this.#byPath.set(`/${spec.method.parent.typeName}/${spec.method.name}`, spec);
  }
}

/** A router that registers everything with `real` and hands each method's implementation to `keep`. */
function recording(real: ConnectRouter, keep: (spec: MethodImplSpec) => void): ConnectRouter {
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
