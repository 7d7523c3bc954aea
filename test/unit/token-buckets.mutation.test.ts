/**
 * The arithmetic and bookkeeping under every rate limit, sharper than rate-limit.test.ts (written
 * against mutation testing, TESTING.md): TokenBuckets' retry-after with a partly refilled bucket,
 * when idle buckets are forgotten (at SWEEP_AT keys, at most once a second, only refilled ones) and
 * the MAX_KEYS bound; RateLimiter's label per limit, its message, and addresses it cannot key.
 * Only the API shared by in-process buckets is used: every check here decides at once.
 */
import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "../../src/domain/errors.js";
import { addressKey, RateLimiter, type RateLimits } from "../../src/edges/admission/rate-limit.js";
import { TokenBuckets } from "../../src/edges/admission/token-buckets.js";
import { Metrics } from "../../src/observability/metrics.js";

const SWEEP_AT = 100_000;
const MAX_KEYS = 200_000;

/** Takes one token for each of `count` keys named `${prefix}${i}` at time `now`. */
function touch(buckets: TokenBuckets, prefix: string, count: number, now: number): void {
  for (let i = 0; i < count; i++) buckets.take(`${prefix}${i}`, now);
}

/** How many takes of `key` at `now` pass before the first refusal. */
function passes(buckets: TokenBuckets, key: string, now: number, max = 100): number {
  for (let i = 0; i < max; i++) if (buckets.take(key, now) !== 0) return i;
  return max;
}

describe("TokenBuckets arithmetic", () => {
  it("answers the whole seconds until a partly refilled bucket holds a token", () => {
    const buckets = new TokenBuckets({ perSecond: 0.1, burst: 1 });
    expect(buckets.take("k", 0)).toBe(0);
    expect(buckets.take("k", 0)).toBe(10);
    expect(buckets.take("k", 5_000)).toBe(5);
    expect(buckets.take("k", 9_500)).toBe(1);
    expect(buckets.take("k", 10_000)).toBe(0);
  });

  it("answers at least one second, even when less remains", () => {
    const buckets = new TokenBuckets({ perSecond: 100, burst: 1 });
    expect(buckets.take("k", 0)).toBe(0);
    expect(buckets.take("k", 1)).toBe(1);
  });
});

describe("TokenBuckets memory", () => {
  it("remembers idle buckets below SWEEP_AT keys", () => {
    const buckets = new TokenBuckets({ perSecond: 1000, burst: 1 });
    touch(buckets, "a", 3, 0);
    touch(buckets, "b", 1, 60_000);
    expect(buckets.size).toBe(4);
  });

  it("at SWEEP_AT keys, a new key first forgets the buckets that have refilled, and only those", () => {
    // 10 tokens at 2 per second: a bucket is full again 5 s after its last take.
    const buckets = new TokenBuckets({ perSecond: 2, burst: 10 });
    touch(buckets, "old", SWEEP_AT - 2, 0);
    expect(passes(buckets, "drained", 0)).toBe(10);
    touch(buckets, "recent", 1, 4_000);
    expect(buckets.size).toBe(SWEEP_AT);
    buckets.take("new", 5_001);
    // The old ones and the drained one (idle 5.001 s) were full again and are forgotten, which
    // changes nothing for them; the recent one (idle 1.001 s) stays.
    expect(buckets.size).toBe(2);
    expect(passes(buckets, "drained", 5_001)).toBe(10);
  });

  it("does not forget a bucket that has not refilled: its tokens stay spent", () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 10 });
    expect(passes(buckets, "drained", 0)).toBe(10);
    touch(buckets, "filler", SWEEP_AT - 1, 1_000);
    buckets.take("new", 2_000);
    expect(buckets.size).toBe(SWEEP_AT + 1);
    // Idle 2 s: 4 tokens back, not a fresh bucket's 10.
    expect(passes(buckets, "drained", 2_000)).toBe(4);
  });

  it("forgets a bucket idle for exactly its refill time only once it is idle longer", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
    touch(buckets, "k", SWEEP_AT, 0);
    buckets.take("new", 1_000);
    expect(buckets.size).toBe(SWEEP_AT + 1);
  });

  it("sweeps at most once a second", () => {
    const buckets = new TokenBuckets({ perSecond: 1000, burst: 1 });
    touch(buckets, "a", SWEEP_AT, 0);
    buckets.take("first", 10);
    expect(buckets.size).toBe(1);
    touch(buckets, "b", SWEEP_AT - 1, 10);
    buckets.take("second", 20);
    expect(buckets.size).toBe(SWEEP_AT + 1);
    buckets.take("third", 1_009);
    expect(buckets.size).toBe(SWEEP_AT + 2);
    buckets.take("fourth", 1_010);
    // Only "third" (idle 1 ms, its refill time) survives the second sweep, beside "fourth".
    expect(buckets.size).toBe(2);
  });

  it("never holds more than MAX_KEYS: a new key drops the oldest, which then starts full", () => {
    const buckets = new TokenBuckets({ perSecond: 0.001, burst: 1 });
    expect(buckets.take("first", 0)).toBe(0);
    touch(buckets, "k", MAX_KEYS - 1, 0);
    expect(buckets.size).toBe(MAX_KEYS);
    expect(buckets.take("first", 0)).toBe(1000);
    buckets.take("one-more", 0);
    expect(buckets.size).toBe(MAX_KEYS);
    // "first", the oldest key, was dropped: it starts full again (and drops k0, now the oldest).
    expect(buckets.take("first", 0)).toBe(0);
    expect(buckets.take("k0", 0)).toBe(0);
    expect(buckets.take("k2", 0)).toBe(1000);
    expect(buckets.size).toBe(MAX_KEYS);
  });
});

const huge = { perSecond: 1e6, burst: 1e6 };
const one = { perSecond: 1, burst: 1 };
const limits = (overrides: Partial<RateLimits>): RateLimits => ({
  flood: huge,
  address: huge,
  user: huge,
  passwordAddress: huge,
  signInUsername: huge,
  passwordCallsPerAddress: 1e6,
  ...overrides,
});

/** The refusal a call throws, or undefined when it passes. */
function refusal(call: () => unknown): ResourceExhaustedError | undefined {
  try {
    call();
  } catch (error) {
    if (error instanceof ResourceExhaustedError) return error;
    throw error;
  }
  return undefined;
}

async function refusedByLabel(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.rateLimited.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.limit), v.value]));
}

describe("RateLimiter", () => {
  it("counts each refusal under its limit's name and says when to retry", async () => {
    const metrics = new Metrics();
    const l = new RateLimiter(
      limits({ flood: one, address: one, user: one, passwordAddress: one, signInUsername: one, passwordCallsPerAddress: 1 }),
      metrics,
      () => 0,
    );
    const checks: [string, () => unknown][] = [
      ["flood", () => l.checkFlood("192.0.2.1")],
      ["address", () => l.checkAnonymous("192.0.2.1")],
      ["user", () => l.checkUser("u1")],
      ["password_address", () => l.checkPasswordAttempt("192.0.2.1")],
      ["sign_in", () => l.checkSignIn("alice")],
    ];
    for (const [name, check] of checks) {
      expect(refusal(check), name).toBeUndefined();
      const refused = refusal(check);
      expect(refused, name).toEqual(new ResourceExhaustedError("rate limit exceeded: retry in 1s", 1));
      expect(refused?.retryAfterSeconds, name).toBe(1);
    }
    l.beginPasswordCall("192.0.2.1");
    expect(refusal(() => l.beginPasswordCall("192.0.2.1"))).toEqual(new ResourceExhaustedError("1 sign-ins from this address are in progress: retry in 1s", 1));
    expect(await refusedByLabel(metrics)).toEqual({ flood: 1, address: 1, user: 1, password_address: 1, sign_in: 1, password_calls: 1 });
  });

  it("applies no per-address limit to a call without an address", () => {
    const l = new RateLimiter(limits({ flood: one, address: one, passwordAddress: one, passwordCallsPerAddress: 1 }), new Metrics(), () => 0);
    for (const ip of [undefined, ""]) {
      for (let i = 0; i < 3; i++) {
        expect(() => l.checkFlood(ip)).not.toThrow();
        expect(() => l.checkAnonymous(ip)).not.toThrow();
        expect(() => l.checkPasswordAttempt(ip)).not.toThrow();
        expect(() => l.beginPasswordCall(ip)).not.toThrow();
      }
      expect(l.beginPasswordCall(ip)()).toBeUndefined();
    }
  });

  it("frees a sign-in slot when a call ends, each end once", () => {
    const l = new RateLimiter(limits({ passwordCallsPerAddress: 2 }), new Metrics(), () => 0);
    const a = l.beginPasswordCall("192.0.2.7");
    const b = l.beginPasswordCall("192.0.2.7");
    a();
    b();
    const c = l.beginPasswordCall("192.0.2.7");
    l.beginPasswordCall("192.0.2.7");
    expect(refusal(() => l.beginPasswordCall("192.0.2.7"))).toBeInstanceOf(ResourceExhaustedError);
    c();
    expect(refusal(() => l.beginPasswordCall("192.0.2.7"))).toBeUndefined();
  });
});

describe("addressKey", () => {
  it.each([
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:192.0.2.1", "192.0.2.1"],
    ["::ffff:c000:201", "0:0:0:0::/64"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
    ["1::2:3:4:5:6:7", "1:0:2:3::/64"],
    ["1:2::3:4:5:6:7", "1:2:0:3::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::", "0:0:0:0::/64"],
    ["1:2:3", "1:2:3::/64"],
    ["1::2::3", "1::2::3"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["2001:DB8:0:00A0::1", "2001:db8:0:a0::/64"],
  ])("keys %s as %s", (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });
});
