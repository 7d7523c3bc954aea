/**
 * Token-bucket rate limits on every edge: per user and per IP address (sustained rate + burst),
 * and sign-in attempts per username (password guessing). Over the limit: RESOURCE_EXHAUSTED /
 * HTTP 429 with Retry-After.
 */
import type { Interceptor } from "@connectrpc/connect";
import { ResourceExhaustedError } from "../domain/errors.js";
import { uniquenessKey } from "../domain/names.js";
import type { Metrics } from "../observability/metrics.js";
import { callerKey } from "../auth/auth-context.js";
import { clientIpKey, INTERNAL_IP_HEADER } from "./client-address.js";

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** A set of token buckets with one rate; idle full buckets are forgotten. */
class Buckets {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly perSecond: number, private readonly burst: number) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, now = Date.now()): number {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 100_000) this.#sweep(now);
      bucket = { tokens: this.burst, updatedMs: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.perSecond);
    bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  #sweep(now: number): void {
    const refill = (this.burst / this.perSecond) * 1000;
    for (const [key, b] of this.#buckets) if (now - b.updatedMs > refill) this.#buckets.delete(key);
  }
}

export class RateLimiter {
  /** Per IP address and per user id: the same rate, one map each (no key to build per call). */
  readonly #ips: Buckets;
  readonly #users: Buckets;
  readonly #signIns: Buckets;

  constructor(
    rate: { perSecond: number; burst: number },
    signIn: { perMinute: number },
    private readonly metrics: Metrics,
  ) {
    this.#ips = new Buckets(rate.perSecond, rate.burst);
    this.#users = new Buckets(rate.perSecond, rate.burst);
    this.#signIns = new Buckets(signIn.perMinute / 60, signIn.perMinute);
  }

  /** Throws ResourceExhaustedError when the caller (user, else IP) is over its limit. */
  check(ip: string | undefined, userId: string | undefined): void {
    if (ip) this.#enforce(this.#ips.take(ip), "ip");
    if (userId) this.#enforce(this.#users.take(userId), "user");
  }

  /** Throws ResourceExhaustedError when a username has had too many sign-in attempts. */
  checkSignIn(username: string): void {
    this.#enforce(this.#signIns.take(uniquenessKey(username)), "sign_in");
  }

  #enforce(retryAfterSeconds: number, limit: string): void {
    if (retryAfterSeconds === 0) return;
    this.metrics.rateLimited.inc({ limit });
    throw new ResourceExhaustedError(`rate limit exceeded: retry in ${retryAfterSeconds}s`, retryAfterSeconds);
  }
}

/**
 * Applies the limits to every RPC. Runs before authentication, so the per-IP limit also guards
 * sign-in; the per-user limit is applied by the auth step's result on the next request onwards
 * (the user id comes from the token, checked cheaply here without verifying it twice).
 */
export function rateLimitInterceptor(limiter: RateLimiter): Interceptor {
  return (next) => async (req) => {
    const ip = req.contextValues.get(clientIpKey) ?? req.header.get(INTERNAL_IP_HEADER) ?? undefined;
    limiter.check(ip, undefined);
    return next(req);
  };
}

/** Per-user limit and sign-in limit, applied after authentication (see routes.ts order). */
export function userRateLimitInterceptor(limiter: RateLimiter): Interceptor {
  return (next) => async (req) => {
    const caller = req.contextValues.get(callerKey);
    if (caller) limiter.check(undefined, caller.userId);
    if (req.method.name === "SignIn") {
      const username = (req.message as { username?: unknown }).username;
      if (typeof username === "string") limiter.checkSignIn(username);
    }
    return next(req);
  };
}
