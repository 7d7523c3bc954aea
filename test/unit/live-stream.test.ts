/** The hand-written subscription iterator: hand-over after a burst, overflow, abort and return while a reader waits. */
import { describe, expect, it } from "vitest";
import { Hub } from "../../src/realtime/hub.js";
import { subscribe } from "../../src/realtime/subscription.js";
import { ResourceExhaustedError, UnauthenticatedError } from "../../src/domain/errors.js";
import type { ChatMessage } from "../../src/domain/model.js";

const channel = { kind: "room", id: "9" } as const;
const limits = { replayLimit: 10, queueLimit: 3, heartbeatMs: 60_000 };
let n = 1000;
const message = (): ChatMessage => ({ id: String(n++), channel, senderId: "2", senderName: "b", text: "t", createdAtMs: 0, clientMessageId: "" });

async function started(signal = new AbortController().signal) {
  const hub = new Hub();
  const stream = subscribe(hub, limits, { channel, since: undefined, history: async () => [], signal });
  expect((await stream.next()).value).toEqual({ kind: "ready", position: "0", heartbeatMs: expect.any(Number) });
  return { hub, stream };
}

describe("subscribe() live phase", () => {
  it("hands a burst to a waiting reader in order, once each", async () => {
    const { hub, stream } = await started();
    const waiting = stream.next();
    const burst = [message(), message(), message()];
    for (const m of burst) hub.dispatch({ type: "message", message: m });
    const got = [(await waiting).value, (await stream.next()).value, (await stream.next()).value];
    expect(got).toEqual(burst.map((m) => ({ kind: "message", message: m })));
    await stream.return(undefined);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("ends a waiting reader with RESOURCE_EXHAUSTED when a burst overflows, handing over none of it", async () => {
    const { hub, stream } = await started();
    const waiting = stream.next();
    for (let i = 0; i < 5; i++) hub.dispatch({ type: "message", message: message() });
    await expect(waiting).rejects.toBeInstanceOf(ResourceExhaustedError);
    expect(hub.subscriberCount(channel)).toBe(0);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("ends a waiting reader on abort: done for a plain abort, the reason for a domain error", async () => {
    const plain = new AbortController();
    const a = await started(plain.signal);
    const waitingA = a.stream.next();
    plain.abort();
    expect(await waitingA).toEqual({ done: true, value: undefined });

    const revoked = new AbortController();
    const b = await started(revoked.signal);
    const waitingB = b.stream.next();
    revoked.abort(new UnauthenticatedError("signed out"));
    await expect(waitingB).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(a.hub.subscriberCount(channel) + b.hub.subscriberCount(channel)).toBe(0);
  });

  it("resolves a waiting next() as done when return() is called", async () => {
    const { hub, stream } = await started();
    const waiting = stream.next();
    await stream.return(undefined);
    expect(await waiting).toEqual({ done: true, value: undefined });
    hub.dispatch({ type: "message", message: message() });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("registers nothing until the first next()", async () => {
    const hub = new Hub();
    const stream = subscribe(hub, limits, { channel, since: undefined, history: async () => [], signal: new AbortController().signal });
    expect(hub.subscriberCount(channel)).toBe(0);
    await stream.return(undefined);
    expect(hub.subscriberCount(channel)).toBe(0);
  });
});
