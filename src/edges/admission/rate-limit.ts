/**
 * Token-bucket rate limits on every edge, keyed the way real networks need: many users can
 * share one address (an office, carrier-grade NAT), so signed-in work is counted per user and
 * the per-address buckets see only what no user vouches for.
 *
 * - flood ceiling: per address, on every call, far above what a busy office sends — it only
 *   keeps one address from hogging a process;
 * - per address: calls without valid credentials (public procedures, and calls whose token is
 *   missing or refused);
 * - per user: every signed-in call;
 * - password checks per address: sign-ins and sign-ups, below what the machine can hash, and at
 *   most a few in progress at once (so one address never holds the hash queue, however many
 *   connections it opens);
 * - sign-in attempts per username (case-folded): password guessing from many addresses.
 *
 * Over a limit: RESOURCE_EXHAUSTED / HTTP 429 with Retry-After. Every bucket counts for the
 * whole node: a process of several workers leases tokens from the buckets its primary holds
 * (cluster/node-buckets.ts), so a check may wait for the primary's answer — callers await it.
 */
import { ResourceExhaustedError } from "../../domain/errors.js";
import { uniquenessKey } from "../../domain/names.js";
import type { Metrics } from "../../observability/metrics.js";
import { TokenBuckets, type Buckets, type Rate } from "./token-buckets.js";

export type { Buckets, Rate } from "./token-buckets.js";

/** The token-bucket limits, by the name the primary's buckets know them by. */
export const LIMIT_NAMES = ["flood", "address", "user", "passwordAddress", "signInUsername"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Every limit's rate (see the file comment for who is counted where). */
export type RateLimits = { readonly [name in LimitName]: Rate } & {
  /** Sign-ins and sign-ups of one address in progress at once (counted in each process). */
  readonly passwordCallsPerAddress: number;
};

/** Where a limit's buckets are kept. */
export type BucketsFactory = (limit: LimitName, rate: Rate) => Buckets;

/** Buckets in this process: a node of one process. */
export const localBuckets: BucketsFactory = (_limit, rate) => new TokenBuckets(rate);

/**
 * The rate limits of a node. `now` is the clock (tests pass a fake one). A check throws
 * ResourceExhaustedError over a limit — at once with buckets in this process, or as a rejected
 * promise when it waited for the node's primary: await what it returns.
 */
export class RateLimiter {
  readonly #flood: Buckets;
  readonly #address: Buckets;
  readonly #user: Buckets;
  readonly #passwordAddress: Buckets;
  readonly #signIns: Buckets;
  readonly #passwordCalls = new Map<string, number>();
  readonly #passwordCallsPerAddress: number;

  constructor(
    limits: RateLimits,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
    buckets: BucketsFactory = localBuckets,
  ) {
    this.#flood = buckets("flood", limits.flood);
    this.#address = buckets("address", limits.address);
    this.#user = buckets("user", limits.user);
    this.#passwordAddress = buckets("passwordAddress", limits.passwordAddress);
    this.#signIns = buckets("signInUsername", limits.signInUsername);
    this.#passwordCallsPerAddress = limits.passwordCallsPerAddress;
  }

  /** The flood ceiling: every call from `ip`, signed in or not. */
  checkFlood(ip: string | undefined): Checked {
    if (ip) return this.#enforce(this.#flood.take(addressKey(ip), this.now()), "flood");
  }

  /** A call from `ip` without valid credentials (public procedure, or a token that failed). */
  checkAnonymous(ip: string | undefined): Checked {
    if (ip) return this.#enforce(this.#address.take(addressKey(ip), this.now()), "address");
  }

  /** A signed-in call. */
  checkUser(userId: string): Checked {
    return this.#enforce(this.#user.take(userId, this.now()), "user");
  }

  /** A call that will hash a password (sign-in, sign-up) from `ip`. */
  checkPasswordAttempt(ip: string | undefined): Checked {
    if (ip) return this.#enforce(this.#passwordAddress.take(addressKey(ip), this.now()), "password_address");
  }

  /**
   * Admits a password call of `ip` while fewer than the limit are in progress; returns the
   * function that ends it (call it exactly once, when the call is answered).
   */
  beginPasswordCall(ip: string | undefined): () => void {
    if (!ip) return () => undefined;
    const key = addressKey(ip);
    const running = this.#passwordCalls.get(key) ?? 0;
    if (running >= this.#passwordCallsPerAddress) {
      this.metrics.rateLimited.inc({ limit: "password_calls" });
      throw new ResourceExhaustedError(`${running} sign-ins from this address are in progress: retry in 1s`, 1);
    }
    this.#passwordCalls.set(key, running + 1);
    return () => {
      const left = (this.#passwordCalls.get(key) ?? 1) - 1;
      if (left > 0) this.#passwordCalls.set(key, left);
      else this.#passwordCalls.delete(key);
    };
  }

  /** A sign-in attempt for `username`, in any letter case. */
  checkSignIn(username: string): Checked {
    return this.#enforce(this.#signIns.take(uniquenessKey(username), this.now()), "sign_in");
  }

  #enforce(retryAfterSeconds: number | Promise<number>, limit: string): Checked {
    if (typeof retryAfterSeconds !== "number") return retryAfterSeconds.then((seconds) => this.#enforce(seconds, limit));
    if (retryAfterSeconds === 0) return;
    this.metrics.rateLimited.inc({ limit });
    throw new ResourceExhaustedError(`rate limit exceeded: retry in ${retryAfterSeconds}s`, retryAfterSeconds);
  }
}

/** What a check returns: nothing when it decided at once (it throws to refuse), else the decision to await. */
type Checked = void | Promise<void>;

/**
 * The bucket key of an address: IPv4 as is (also IPv4-mapped IPv6), IPv6 by its /64 — what one
 * subscriber usually gets, so walking through its addresses earns no fresh buckets.
 */
export function addressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const bare = ip.split("%", 1)[0]!.toLowerCase();
  if (bare.startsWith("::ffff:") && bare.includes(".")) return bare.slice(7);
  const halves = bare.split("::");
  if (halves.length > 2) return bare;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail] : head;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
