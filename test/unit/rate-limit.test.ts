/**
 * The rate limiter on a fake clock: who is counted where (per address for anonymous calls, per
 * user for signed-in ones, the flood ceiling for everything), sign-in keys in any letter case,
 * and the address a limit sees behind trusted and untrusted proxies.
 */
import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "../../src/domain/errors.js";
import { Metrics } from "../../src/observability/metrics.js";
import { addressKey, RateLimiter, type RateLimits } from "../../src/edges/admission/rate-limit.js";
import { clientAddress } from "../../src/edges/admission/client-address.js";
import { loadConfig } from "../../src/config.js";

const huge = { perSecond: 1e6, burst: 1e6 };
const limits = (overrides: Partial<RateLimits>): RateLimits => ({
  flood: huge,
  address: huge,
  user: huge,
  passwordAddress: huge,
  signInUsername: huge,
  passwordCallsPerAddress: 1e6,
  ...overrides,
});

/** A limiter on a clock the test moves. */
function limiter(overrides: Partial<RateLimits>) {
  const clock = { now: 1_000_000 };
  return { limiter: new RateLimiter(limits(overrides), new Metrics(), () => clock.now), clock };
}

/** How many of `n` calls pass before the first refusal (all n when none is refused). */
function passes(n: number, call: () => void): number {
  for (let i = 0; i < n; i++) {
    try {
      call();
    } catch (error) {
      if (error instanceof ResourceExhaustedError) return i;
      throw error;
    }
  }
  return n;
}

describe("per address and per user", () => {
  it("counts anonymous calls per address, and signed-in calls per user only", () => {
    const { limiter: l } = limiter({ address: { perSecond: 1, burst: 5 }, user: { perSecond: 1, burst: 3 } });
    expect(passes(10, () => l.checkAnonymous("198.51.100.7"))).toBe(5);
    // 200 users on that address: each has its own bucket, none is charged to the address.
    for (let u = 0; u < 200; u++) expect(passes(3, () => l.checkUser(`user-${u}`))).toBe(3);
    expect(passes(10, () => l.checkUser("user-0"))).toBe(0);
    // Another address is untouched.
    expect(passes(10, () => l.checkAnonymous("198.51.100.8"))).toBe(5);
  });

  it("refills at the sustained rate and says when to retry", () => {
    const { limiter: l, clock } = limiter({ address: { perSecond: 0.5, burst: 2 } });
    expect(passes(5, () => l.checkAnonymous("203.0.113.1"))).toBe(2);
    const refused = (() => {
      try {
        l.checkAnonymous("203.0.113.1");
      } catch (error) {
        return error as ResourceExhaustedError;
      }
    })();
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect(refused!.retryAfterSeconds).toBe(2);
    clock.now += 2000;
    expect(passes(5, () => l.checkAnonymous("203.0.113.1"))).toBe(1);
    // A clock that steps back refills nothing.
    clock.now -= 60_000;
    expect(passes(5, () => l.checkAnonymous("203.0.113.1"))).toBe(0);
  });
});

describe("the flood ceiling", () => {
  it("counts every call of an address, signed in or not, and no other address", () => {
    const { limiter: l, clock } = limiter({ flood: { perSecond: 10, burst: 20 } });
    expect(passes(100, () => l.checkFlood("192.0.2.1"))).toBe(20);
    expect(passes(100, () => l.checkFlood("192.0.2.2"))).toBe(20);
    clock.now += 1000;
    expect(passes(100, () => l.checkFlood("192.0.2.1"))).toBe(10);
  });
});

describe("sign-in limits", () => {
  it("key sign-in attempts by username in any letter case", () => {
    const { limiter: l } = limiter({ signInUsername: { perSecond: 3 / 60, burst: 3 } });
    l.checkSignIn("Alice");
    l.checkSignIn("alice");
    l.checkSignIn("ALICE");
    expect(() => l.checkSignIn("aLiCe")).toThrow(ResourceExhaustedError);
    expect(() => l.checkSignIn("Bob")).not.toThrow();
  });

  it("count password checks per address apart from other anonymous calls", () => {
    const { limiter: l } = limiter({ passwordAddress: { perSecond: 1, burst: 4 } });
    expect(passes(10, () => l.checkPasswordAttempt("192.0.2.9"))).toBe(4);
    expect(passes(10, () => l.checkAnonymous("192.0.2.9"))).toBe(10);
    expect(passes(10, () => l.checkPasswordAttempt("192.0.2.10"))).toBe(4);
  });

  it("let an address have only so many sign-ins in progress at once", () => {
    const { limiter: l } = limiter({ passwordCallsPerAddress: 2 });
    const first = l.beginPasswordCall("192.0.2.20");
    const second = l.beginPasswordCall("192.0.2.20");
    expect(() => l.beginPasswordCall("192.0.2.20")).toThrow(ResourceExhaustedError);
    const other = l.beginPasswordCall("192.0.2.21");
    first();
    const third = l.beginPasswordCall("192.0.2.20");
    expect(() => l.beginPasswordCall("192.0.2.20")).toThrow(/in progress/);
    for (const end of [second, third, other]) end();
    l.beginPasswordCall("192.0.2.20");
    l.beginPasswordCall("192.0.2.20");
  });

  it("default below the machine's hashing rate: one budget for the node whatever WORKERS is (its workers lease from it)", () => {
    for (const WORKERS of ["1", "2", "5"]) {
      const limits = loadConfig({ WORKERS }).rateLimit;
      expect(limits.passwordAddress).toEqual({ perSecond: 1, burst: 10 });
      expect(limits.signInUsername).toEqual({ perSecond: 10 / 60, burst: 10 });
    }
  });
});

describe("configuration", () => {
  it("sets the user and address limits apart, or both with RATE_LIMIT_*", () => {
    const both = loadConfig({ RATE_LIMIT_PER_SECOND: "7", RATE_LIMIT_BURST: "9" }).rateLimit;
    expect(both.user).toEqual({ perSecond: 7, burst: 9 });
    expect(both.address).toEqual({ perSecond: 7, burst: 9 });
    const apart = loadConfig({ USER_RATE_LIMIT_PER_SECOND: "5", ADDRESS_RATE_LIMIT_BURST: "3" }).rateLimit;
    expect(apart.user).toEqual({ perSecond: 5, burst: 100 });
    expect(apart.address).toEqual({ perSecond: 50, burst: 3 });
    expect(apart.flood).toEqual({ perSecond: 1000, burst: 2000 });
    expect(() => loadConfig({ FLOOD_LIMIT_BURST: "0" })).toThrow(/FLOOD_LIMIT_BURST/);
  });
});

describe("the address a limit sees", () => {
  it("believes X-Forwarded-For only from a trusted proxy", () => {
    const proxy = "10.0.0.5";
    const { limiter: l } = limiter({ address: { perSecond: 1, burst: 2 } });
    // Behind the trusted proxy, two clients have a bucket each.
    const a = clientAddress(proxy, "198.51.100.1", [proxy]);
    const b = clientAddress(proxy, "198.51.100.2, 10.0.0.5", [proxy]);
    expect([a, b]).toEqual(["198.51.100.1", "198.51.100.2"]);
    expect(passes(5, () => l.checkAnonymous(a))).toBe(2);
    expect(passes(5, () => l.checkAnonymous(b))).toBe(2);
    // Without trust, a forged header earns no fresh bucket: the peer is the address.
    const forged = ["1.1.1.1", "2.2.2.2", "3.3.3.3"].map((spoof) => clientAddress("203.0.113.50", spoof, []));
    expect(new Set(forged)).toEqual(new Set(["203.0.113.50"]));
    expect(forged.map((ip) => passes(1, () => l.checkAnonymous(ip)))).toEqual([1, 1, 0]);
    // A client cannot pose as a trusted proxy by naming it on the left of the chain.
    expect(clientAddress(proxy, "10.0.0.5, 198.51.100.3", [proxy])).toBe("198.51.100.3");
  });

  it("keys IPv6 by its /64 and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002::9%eth0")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressKey("192.0.2.1")).toBe("192.0.2.1");
    const { limiter: l } = limiter({ address: { perSecond: 1, burst: 3 } });
    const walk = Array.from({ length: 10 }, (_, i) => `2001:db8:5:6::${(i + 1).toString(16)}`);
    expect(walk.map((ip) => passes(1, () => l.checkAnonymous(ip))).filter(Boolean)).toHaveLength(3);
    expect(passes(1, () => l.checkAnonymous("2001:db8:5:7::1"))).toBe(1);
  });
});

describe("buckets kept elsewhere (a node's primary, which answers later)", () => {
  /** A factory whose buckets record what they are asked and answer, as a promise, what the test sets. */
  function remoteBuckets() {
    const made: Array<[string, { perSecond: number; burst: number }]> = [];
    const asked: Array<[string, string]> = [];
    const answers = new Map<string, number>();
    const factory = (limit: string, rate: { perSecond: number; burst: number }) => {
      made.push([limit, rate]);
      return { take: (key: string) => (asked.push([limit, key]), Promise.resolve(answers.get(limit) ?? 0)) };
    };
    return { factory, made, asked, answers };
  }
  const distinct: RateLimits = {
    flood: { perSecond: 1, burst: 2 },
    address: { perSecond: 3, burst: 4 },
    user: { perSecond: 5, burst: 6 },
    passwordAddress: { perSecond: 7, burst: 8 },
    signInUsername: { perSecond: 9, burst: 10 },
    passwordCallsPerAddress: 11,
  };

  it("asks for each limit's buckets by its name, with its rate", () => {
    const remote = remoteBuckets();
    new RateLimiter(distinct, new Metrics(), () => 0, remote.factory);
    expect(remote.made).toEqual([
      ["flood", distinct.flood],
      ["address", distinct.address],
      ["user", distinct.user],
      ["passwordAddress", distinct.passwordAddress],
      ["signInUsername", distinct.signInUsername],
    ]);
  });

  it("awaits their answer: each check takes from its own limit's bucket, under the same key as in-process buckets", async () => {
    const remote = remoteBuckets();
    const l = new RateLimiter(distinct, new Metrics(), () => 0, remote.factory);
    const checks = [l.checkFlood("2001:db8:1:2:3::9"), l.checkAnonymous("::ffff:192.0.2.1"), l.checkUser("u-1"), l.checkPasswordAttempt("192.0.2.9"), l.checkSignIn("Alice")];
    for (const check of checks) expect(check).toBeInstanceOf(Promise);
    await expect(Promise.all(checks)).resolves.toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(remote.asked).toEqual([
      ["flood", "2001:db8:1:2::/64"],
      ["address", "192.0.2.1"],
      ["user", "u-1"],
      ["passwordAddress", "192.0.2.9"],
      ["signInUsername", "alice"],
    ]);
  });

  it("refuses when the answer is a wait, with that wait, and counts the refusal under the limit's name", async () => {
    const remote = remoteBuckets();
    const metrics = new Metrics();
    const l = new RateLimiter(distinct, metrics, () => 0, remote.factory);
    remote.answers.set("user", 3);
    remote.answers.set("signInUsername", 7);
    const user = await Promise.resolve(l.checkUser("u-1")).catch((error: unknown) => error);
    expect(user).toBeInstanceOf(ResourceExhaustedError);
    expect((user as ResourceExhaustedError).message).toBe("rate limit exceeded: retry in 3s");
    expect((user as ResourceExhaustedError).retryAfterSeconds).toBe(3);
    await expect(Promise.resolve(l.checkSignIn("bob"))).rejects.toThrow("rate limit exceeded: retry in 7s");
    await expect(Promise.resolve(l.checkAnonymous("192.0.2.1"))).resolves.toBeUndefined();
    const refused = (await metrics.rateLimited.get()).values.map((v) => [v.labels.limit, v.value]);
    expect(refused).toEqual([
      ["user", 1],
      ["sign_in", 1],
    ]);
  });
});
