/** Stream sessions without a timer each: expiry from one shared clock, revocation through the hub, client aborts. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ResourceExhaustedError, UnauthenticatedError } from "../../src/domain/errors.js";
import { type Expiring, ExpiryClock } from "../../src/realtime/expiry-clock.js";
import { Hub } from "../../src/realtime/hub.js";
import { StreamSessions } from "../../src/realtime/stream-sessions.js";

afterEach(() => {
  vi.useRealTimers();
});

const entry = (expiresAtMs: number, fired: number[]): Expiring => ({
  expiresAtMs,
  clockSlot: -1,
  expire: () => fired.push(expiresAtMs),
});

describe("ExpiryClock", () => {
  it("expires entries at their deadline, in deadline order, never before, and not once removed", () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new ExpiryClock();
    const fired: number[] = [];
    const entries = [500, 100, 300, 200, 400].map((at) => entry(at, fired));
    for (const e of entries) clock.add(e);
    clock.remove(entries[2]!);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([100]);
    vi.advanceTimersByTime(400);
    expect(fired).toEqual([100, 200, 400, 500]);
    expect(clock.size).toBe(0);
  });

  it("expires an entry whose deadline has passed on the next turn, not synchronously", () => {
    vi.useFakeTimers({ now: 1000 });
    const clock = new ExpiryClock();
    const fired: number[] = [];
    clock.add(entry(10, fired));
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([10]);
  });
});

describe("StreamSessions", () => {
  const claims = (tokenId: string, expiresAtMs: number) => ({ userId: "1", username: "a", tokenId, expiresAtMs });

  it("aborts with UnauthenticatedError when the token expires or is revoked, and forgets closed sessions", () => {
    vi.useFakeTimers({ now: 0 });
    const hub = new Hub();
    const sessions = new StreamSessions(hub);
    const expiring = sessions.open(claims("t1", 1000));
    const revoked = [sessions.open(claims("t2", 60_000)), sessions.open(claims("t2", 60_000))];
    const closed = sessions.open(claims("t3", 1000));
    closed.close();
    hub.dispatch({ type: "token_revoked", tokenId: "t2", expiresAtMs: 60_000 });
    for (const s of revoked) expect(s.signal.reason).toBeInstanceOf(UnauthenticatedError);
    vi.advanceTimersByTime(1000);
    expect(expiring.signal.reason).toBeInstanceOf(UnauthenticatedError);
    expect(closed.signal.aborted).toBe(false);
  });

  it("follows the client signal, and abort() ends the session as a plain stop", () => {
    const hub = new Hub();
    const sessions = new StreamSessions(hub);
    const client = new AbortController();
    const followed = sessions.open(claims("t1", Date.now() + 60_000), client.signal);
    client.abort();
    expect(followed.signal.aborted).toBe(true);
    const own = sessions.open(claims("t1", Date.now() + 60_000));
    own.abort();
    expect((own.signal.reason as Error).name).toBe("AbortError");
    followed.close();
    own.close();
  });

  it("admits at most maxPerUser streams per user, counts a close once, and does not count carriers", () => {
    const sessions = new StreamSessions(new Hub(), { maxPerUser: 2 });
    const of = (userId: string) => ({ userId, username: userId, tokenId: `t-${userId}`, expiresAtMs: Date.now() + 60_000 });
    const first = sessions.open(of("1"));
    sessions.open(of("1"));
    const carrier = sessions.openCarrier(of("1"));
    expect(() => sessions.open(of("1"))).toThrow(ResourceExhaustedError);
    expect(() => sessions.open(of("1"))).toThrow(/at most 2 per user/);
    const other = sessions.open(of("2"));
    first.close();
    first.close();
    expect(sessions.openBy("1")).toBe(1);
    const again = sessions.open(of("1"));
    expect(sessions.openBy("1")).toBe(2);
    carrier.close();
    expect(sessions.openBy("1")).toBe(2);
    for (const s of [other, again]) s.close();
    expect([sessions.openBy("1"), sessions.openBy("2")]).toEqual([1, 0]);
  });
});
