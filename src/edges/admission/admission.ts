/**
 * Admission: the checks every request passes before its handler, in one order, written once.
 * Connect's interceptors run it for unary calls and connect-node's streams
 * (admissionInterceptor); the stream edges run it themselves before they open a subscription
 * (SSE, WebSocket, the RPC fast path: streams/stream-open.ts). In order:
 *
 *   1. the flood ceiling: every request of an address;
 *   2. a public procedure (sign-up, sign-in, health, reflection): the per-address limit, and
 *      for the two that hash a password, the address's calls in progress and its password
 *      budget, then (sign-in) the attempts on that username;
 *   3. otherwise the credentials (Authorization: Bearer; for browser streams also the session
 *      cookie or a stream ticket): signature, lifetime, revocation, the user — a refusal
 *      counts against the address as an anonymous call;
 *   4. the per-user limit.
 *
 * Validation comes after admission (protovalidate's interceptor; the stream edges validate the
 * decoded request). A request is admitted once and charged once: when the RPC fast path hands
 * a request it cannot serve to connect-node, it hands over its decision as well
 * (admissionDecisionKey), and the interceptor applies it instead of charging again.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { bearerTokenKey, callerKey } from "../../auth/auth-context.js";
import { type AuthPorts, authenticateToken, bearerToken, isPublicProcedure } from "../../auth/authenticate.js";
import type { TokenClaims } from "../../auth/tokens.js";
import { UnauthenticatedError } from "../../domain/errors.js";
import { clientIpKey, INTERNAL_IP_HEADER } from "./client-address.js";
import type { RateLimiter } from "./rate-limit.js";

/** A request that passed: who calls (nobody, for a public procedure), and what to release once it is answered. */
export interface Admitted {
  readonly caller?: TokenClaims;
  /** The bearer token the caller presented (for sign-out). */
  readonly token?: string;
  /** Call exactly once, when the request is answered (a password call's place in progress). */
  readonly release: () => void;
}

/** What admission reads of a request, whatever edge it came through. */
export interface AdmissionRequest {
  /** The RPC's path (/chat.v1.AuthService/SignIn); none for a browser stream, which is never public. */
  readonly procedure?: string;
  /** The client's address, as the limits count it (client-address.ts). */
  readonly ip: string | undefined;
  /**
   * The request's "Bearer <token>": asked for only after the flood ceiling let it through (a
   * browser stream's ticket is redeemed then). It may throw UnauthenticatedError saying what
   * is missing.
   */
  readonly authorization: () => string | null | Promise<string | null>;
  /** For SignIn: the username the attempt is for. */
  readonly signInUsername?: string;
}

/** A decision made before connect-node saw the request, to apply rather than repeat. */
export type AdmissionDecision = { readonly admitted: Admitted } | { readonly refused: unknown };

/** Set by connect-handler.ts on a request a fast path handed over, with the fast path's decision. */
export const admissionDecisionKey = createContextKey<AdmissionDecision | undefined>(undefined, { description: "admission decided by a fast path" });

const PASSWORD_PROCEDURES = new Set(["/chat.v1.AuthService/SignIn", "/chat.v1.AuthService/SignUp"]);
const NOTHING_TO_RELEASE = (): void => undefined;
const OPEN: Admitted = { release: NOTHING_TO_RELEASE };

export class Admission {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly auth: AuthPorts,
  ) {}

  /** Admits `request` or throws the error to answer it with (see the file comment for the order). */
  async admit(request: AdmissionRequest): Promise<Admitted> {
    const flood = this.limiter.checkFlood(request.ip);
    if (flood) await flood; // most checks decide at once: no promise, no turn, for them
    if (request.procedure !== undefined && isPublicProcedure(request.procedure)) return this.#admitPublic(request, request.procedure);
    let caller: TokenClaims;
    let token: string;
    try {
      const authorization = request.authorization();
      token = bearerToken(authorization instanceof Promise ? await authorization : authorization);
      caller = await authenticateToken(token, this.auth);
    } catch (error) {
      // Refused credentials make it an anonymous call: a flood of bad tokens is an anonymous flood.
      if (error instanceof UnauthenticatedError) await this.limiter.checkAnonymous(request.ip);
      throw error;
    }
    const user = this.limiter.checkUser(caller.userId);
    if (user) await user;
    return { caller, token, release: NOTHING_TO_RELEASE };
  }

  /** A signed-in caller's further request on a connection admitted before (a subscribe frame on /ws). */
  async admitAgain(caller: TokenClaims, ip: string | undefined): Promise<void> {
    const flood = this.limiter.checkFlood(ip);
    if (flood) await flood;
    const user = this.limiter.checkUser(caller.userId);
    if (user) await user;
  }

  async #admitPublic(request: AdmissionRequest, procedure: string): Promise<Admitted> {
    const anonymous = this.limiter.checkAnonymous(request.ip);
    if (anonymous) await anonymous;
    if (!PASSWORD_PROCEDURES.has(procedure)) return OPEN;
    // In progress first: a call refused for that spends none of the address's budget.
    const release = this.limiter.beginPasswordCall(request.ip);
    try {
      await this.limiter.checkPasswordAttempt(request.ip);
      if (request.signInUsername !== undefined) await this.limiter.checkSignIn(request.signInUsername);
      return { release };
    } catch (error) {
      release();
      throw error;
    }
  }
}

/**
 * Admission for Connect calls (unary, and streams connect-node serves): puts the caller in
 * callerKey and bearerTokenKey for the handlers, and releases what admission holds once the
 * call is answered.
 */
export function admissionInterceptor(admission: Admission): Interceptor {
  // A method's path is built once, not per call.
  const paths = new WeakMap<DescMethod, string>();
  const pathOf = (method: DescMethod): string => {
    let path = paths.get(method);
    if (path === undefined) paths.set(method, (path = `/${method.parent.typeName}/${method.name}`));
    return path;
  };
  return (next) => async (req) => {
    const decided = req.contextValues.get(admissionDecisionKey);
    if (decided && "refused" in decided) throw decided.refused;
    const username = req.method.name === "SignIn" ? (req.message as { username?: unknown }).username : undefined;
    const admitted =
      decided?.admitted ??
      (await admission.admit({
        procedure: pathOf(req.method),
        ip: req.contextValues.get(clientIpKey) ?? req.header.get(INTERNAL_IP_HEADER) ?? undefined,
        authorization: () => req.header.get("authorization"),
        ...(typeof username === "string" ? { signInUsername: username } : {}),
      }));
    if (admitted.caller) {
      req.contextValues.set(callerKey, admitted.caller);
      req.contextValues.set(bearerTokenKey, admitted.token!);
    }
    try {
      return await next(req);
    } finally {
      admitted.release();
    }
  };
}
