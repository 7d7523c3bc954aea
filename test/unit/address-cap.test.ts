/** The per-address connection cap's counting key and bookkeeping (the e2e suite shows it on real sockets). */
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { AddressCap, addressKey } from "../../src/edges/connections/address-cap.js";

const from = (remoteAddress: string) => ({ remoteAddress }) as Socket;

describe("addressKey", () => {
  it("keeps IPv4 addresses, unwraps IPv4-mapped ones, and counts IPv6 by /64", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:0:1:2:3:4:5")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8:0:1::9")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:0DB8:0000:0001::")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});

describe("AddressCap", () => {
  it("admits up to max per key, frees a place on release, and never counts exempt peers", () => {
    const cap = new AddressCap(2, ["10.0.0.1"]);
    expect([cap.admit(from("2001:db8:0:1::1")), cap.admit(from("2001:db8:0:1::2")), cap.admit(from("2001:db8:0:1::3"))]).toEqual([true, true, false]);
    expect(cap.admit(from("2001:db8:0:2::1"))).toBe(true);
    cap.release(from("2001:db8:0:1::2"));
    expect(cap.admit(from("2001:db8:0:1::4"))).toBe(true);
    for (let i = 0; i < 5; i++) expect(cap.admit(from("10.0.0.1"))).toBe(true);
    cap.release(from("10.0.0.1"));
    expect(cap.count("10.0.0.1")).toBe(0);
    expect(cap.count("2001:db8:0:1::ffff")).toBe(2);
  });
});
