/**
 * StreamTickets with a fake clock (the `now` arguments) and a fake RedeemOnce: expiry at the
 * boundary, forged, tampered, truncated and malformed tickets, and single use delegated to the
 * store with the ticket's nonce and expiry.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type RedeemOnce, StreamTickets, TICKET_SECONDS } from "../../src/auth/stream-tickets.js";

const KEY = Buffer.alloc(32, 7);
const TOKEN = "header.payload.signature";
const NOW = 1_764_000_000_000;

/** A store's redeemOnce: first use of a nonce wins; every call is recorded. */
function fakeStore(): { redeemOnce: RedeemOnce; calls: Array<[string, number]> } {
  const used = new Set<string>();
  const calls: Array<[string, number]> = [];
  return {
    calls,
    redeemOnce: async (nonce, expiresAtMs) => {
      calls.push([nonce, expiresAtMs]);
      if (used.has(nonce)) return false;
      used.add(nonce);
      return true;
    },
  };
}

/** Seals any payload the way issue() does, so malformed contents can be tested. */
function seal(plain: Buffer, key = KEY): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString("base64url");
}

/** The ticket with byte `index` (negative: from the end) flipped. */
function flipByte(ticket: string, index: number): string {
  const bytes = Buffer.from(ticket, "base64url");
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = bytes[i]! ^ 0x01;
  return bytes.toString("base64url");
}

describe("StreamTickets", () => {
  it("wants a 32-byte key", () => {
    const { redeemOnce } = fakeStore();
    expect(() => new StreamTickets(Buffer.alloc(31), redeemOnce)).toThrow(new RangeError("a stream-ticket key is 32 bytes"));
    expect(() => new StreamTickets(Buffer.alloc(33), redeemOnce)).toThrow(RangeError);
    expect(() => new StreamTickets(Buffer.alloc(32), redeemOnce)).not.toThrow();
  });

  it("issues a ticket valid for TICKET_SECONDS that does not show the token", () => {
    const tickets = new StreamTickets(KEY, fakeStore().redeemOnce);
    const { ticket, expiresAtMs } = tickets.issue(TOKEN, NOW);
    expect(TICKET_SECONDS).toBe(30);
    expect(expiresAtMs).toBe(NOW + 30_000);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(ticket).not.toContain(Buffer.from(TOKEN).toString("base64url").slice(0, 8));
    expect(Buffer.from(ticket, "base64url").includes(Buffer.from(TOKEN))).toBe(false);
    // A fresh nonce each time: two tickets for one token differ from their first byte group.
    expect(tickets.issue(TOKEN, NOW).ticket.slice(0, 16)).not.toBe(ticket.slice(0, 16));
  });

  it("redeems up to the last millisecond before expiry, not at it", async () => {
    const tickets = new StreamTickets(KEY, fakeStore().redeemOnce);
    const { ticket: a, expiresAtMs } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(a, expiresAtMs - 1)).toBe(TOKEN);
    const { ticket: b } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(b, expiresAtMs)).toBeUndefined();
    const { ticket: c } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(c, expiresAtMs + 1)).toBeUndefined();
    // Issued "now", redeemed at the same instant: valid.
    const { ticket: d } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(d, NOW)).toBe(TOKEN);
  });

  it("does not use up an expired ticket's nonce", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const { ticket, expiresAtMs } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(ticket, expiresAtMs)).toBeUndefined();
    expect(store.calls).toEqual([]);
  });

  it("passes the ticket's nonce, prefixed, with its expiry to redeemOnce, once per redemption", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const { ticket, expiresAtMs } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(ticket, NOW + 1)).toBe(TOKEN);
    const nonce = Buffer.from(ticket, "base64url").subarray(0, 12).toString("base64url");
    expect(store.calls).toEqual([[`ticket:${nonce}`, expiresAtMs]]);
  });

  it("leaves single use to redeemOnce: the second redemption fails because the store says so", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const { ticket } = tickets.issue(TOKEN, NOW);
    expect(await tickets.redeem(ticket, NOW + 1)).toBe(TOKEN);
    expect(await tickets.redeem(ticket, NOW + 2)).toBeUndefined();
    expect(store.calls).toHaveLength(2);
    expect(store.calls[1]).toEqual(store.calls[0]);
    // The class itself keeps no memory: a store that always says "first" lets it through again.
    const lenient = new StreamTickets(KEY, async () => true);
    expect(await lenient.redeem(ticket, NOW + 3)).toBe(TOKEN);
    expect(await lenient.redeem(ticket, NOW + 4)).toBe(TOKEN);
    // And a store that says "used" refuses a fresh ticket.
    const strict = new StreamTickets(KEY, async () => false);
    expect(await strict.redeem(strict.issue(TOKEN, NOW).ticket, NOW + 1)).toBeUndefined();
  });

  it("is single use across workers that share the store and the key", async () => {
    const store = fakeStore();
    const one = new StreamTickets(KEY, store.redeemOnce);
    const two = new StreamTickets(Buffer.from(KEY), store.redeemOnce);
    const { ticket } = one.issue(TOKEN, NOW);
    const answers = await Promise.all([one.redeem(ticket, NOW + 1), two.redeem(ticket, NOW + 1)]);
    expect(answers.sort()).toEqual([TOKEN, undefined]);
  });

  it("refuses a ticket sealed under another key, without asking the store", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const other = new StreamTickets(Buffer.alloc(32, 8), fakeStore().redeemOnce);
    expect(await tickets.redeem(other.issue(TOKEN, NOW).ticket, NOW + 1)).toBeUndefined();
    expect(await tickets.redeem(seal(Buffer.from(JSON.stringify({ t: TOKEN, e: NOW + 30_000 })), Buffer.alloc(32, 9)), NOW + 1)).toBeUndefined();
    expect(store.calls).toEqual([]);
  });

  it("refuses tampered tickets: a flipped bit in the nonce, the sealed payload or the tag", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    for (const index of [0, 11, 12, 20, -17, -16, -1]) {
      const { ticket } = tickets.issue(TOKEN, NOW);
      expect(await tickets.redeem(flipByte(ticket, index), NOW + 1), `byte ${index}`).toBeUndefined();
    }
    expect(store.calls).toEqual([]);
  });

  it("refuses truncated, extended and malformed tickets", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const { ticket } = tickets.issue(TOKEN, NOW);
    const bytes = Buffer.from(ticket, "base64url");
    const cases = [
      "",
      ticket.slice(0, -1),
      ticket.slice(0, -4),
      bytes.subarray(0, bytes.length - 1).toString("base64url"),
      bytes.subarray(0, 28).toString("base64url"), // nonce and tag only: nothing sealed
      bytes.subarray(0, 12).toString("base64url"),
      Buffer.concat([bytes, Buffer.from([0])]).toString("base64url"),
      `${ticket}=`,
      `${ticket} `,
      ticket.replace(/-/g, "+").replace(/_/g, "/") + (ticket.includes("-") || ticket.includes("_") ? "" : "+"),
      "A".repeat(4097),
    ];
    expect.assertions(cases.length + 2);
    for (const bad of cases) expect(await tickets.redeem(bad, NOW + 1), JSON.stringify(bad.slice(0, 40))).toBeUndefined();
    expect(store.calls).toEqual([]);
    // The untouched ticket still works: the refusals did not use it up.
    expect(await tickets.redeem(ticket, NOW + 1)).toBe(TOKEN);
  });

  it("refuses a ticket longer than 4096 characters, even a genuine one", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const long = tickets.issue("x".repeat(3100), NOW).ticket;
    expect(long.length).toBeGreaterThan(4096);
    expect(await tickets.redeem(long, NOW + 1)).toBeUndefined();
    expect(store.calls).toEqual([]);
    const fits = tickets.issue("x".repeat(2900), NOW).ticket;
    expect(fits.length).toBeLessThanOrEqual(4096);
    expect(await tickets.redeem(fits, NOW + 1)).toBe("x".repeat(2900));
    // The limit itself is allowed: 3018 characters of token seal to exactly 4096 (3072 bytes).
    const exact = tickets.issue("x".repeat(3018), NOW).ticket;
    expect(exact.length).toBe(4096);
    expect(await tickets.redeem(exact, NOW + 1)).toBe("x".repeat(3018));
  });

  it("refuses a sealed payload of the wrong shape", async () => {
    const store = fakeStore();
    const tickets = new StreamTickets(KEY, store.redeemOnce);
    const payloads = [
      "not json",
      "null",
      "[]",
      JSON.stringify({ e: NOW + 30_000 }),
      JSON.stringify({ t: 42, e: NOW + 30_000 }),
      JSON.stringify({ t: TOKEN }),
      JSON.stringify({ t: TOKEN, e: String(NOW + 30_000) }),
    ];
    expect.assertions(payloads.length + 2);
    for (const payload of payloads) expect(await tickets.redeem(seal(Buffer.from(payload)), NOW + 1), payload).toBeUndefined();
    expect(store.calls).toEqual([]);
    // The same sealing with a well-formed payload is accepted, so the refusals above are about the shape.
    expect(await tickets.redeem(seal(Buffer.from(JSON.stringify({ t: TOKEN, e: NOW + 30_000 }))), NOW + 1)).toBe(TOKEN);
  });
});
