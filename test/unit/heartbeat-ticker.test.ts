/** The shared heartbeat ticker and the streams' waits on it: no timer per wait, woken after a period of idleness. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { HeartbeatTickers, type Idler } from "../../src/realtime/heartbeat-ticker.js";
import { Hub } from "../../src/realtime/hub.js";
import { subscribe } from "../../src/realtime/subscription.js";
import type { ChatMessage } from "../../src/domain/model.js";

const message = (id: string): ChatMessage => ({
  id,
  channel: { kind: "room", id: "1" },
  senderId: "2",
  senderName: "b",
  text: id,
  createdAtMs: 0,
  clientMessageId: "",
});

afterEach(() => {
  vi.useRealTimers();
});

describe("HeartbeatTicker", () => {
  it("wakes an idle stream after one to one and a half periods, and a busy one never", () => {
    vi.useFakeTimers({ now: 0 });
    const ticker = new HeartbeatTickers().for(1000);
    const woken: string[] = [];
    // Like FrameQueue: waking ends the wait, so the stream is no longer idle.
    const idle: Idler & { idleSinceMs: number | undefined } = {
      idleSinceMs: 0,
      wake() {
        this.idleSinceMs = undefined;
        woken.push("idle");
      },
    };
    const busy: Idler = { idleSinceMs: undefined, wake: () => woken.push("busy") };
    ticker.add(idle);
    ticker.add(busy);
    vi.advanceTimersByTime(900);
    expect(woken).toEqual([]);
    vi.advanceTimersByTime(600);
    expect(woken).toEqual(["idle"]);
    ticker.remove(idle);
    ticker.remove(busy);
    expect(ticker.size).toBe(0);
  });

  it("is shared per period and stops its timer when nothing is watched", () => {
    vi.useFakeTimers({ now: 0 });
    const tickers = new HeartbeatTickers();
    expect(tickers.for(5000)).toBe(tickers.for(5000));
    expect(tickers.for(5000)).not.toBe(tickers.for(6000));
    expect(new HeartbeatTickers().for(5000)).not.toBe(tickers.for(5000));
    const ticker = tickers.for(5000);
    const idler: Idler = { idleSinceMs: undefined, wake: () => undefined };
    ticker.add(idler);
    expect(vi.getTimerCount()).toBe(1);
    ticker.remove(idler);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("subscribe() on the shared ticker", () => {
  it("sets no timer per wait, hands a message straight to a waiting reader, and heartbeats when idle", async () => {
    vi.useFakeTimers({ now: 0 });
    const hub = new Hub();
    const channel = { kind: "room", id: "1" } as const;
    const stream = subscribe(hub, { replayLimit: 10, queueLimit: 10, heartbeatMs: 1000 }, {
      channel,
      since: undefined,
      history: async () => [],
      signal: new AbortController().signal,
    });
    expect((await stream.next()).value).toEqual({ kind: "ready", position: "0", heartbeatMs: expect.any(Number) });
    const timers = vi.getTimerCount();
    const waiting = stream.next();
    expect(vi.getTimerCount()).toBe(timers);
    hub.dispatch({ type: "message", message: message("7") });
    expect((await waiting).value).toEqual({ kind: "message", message: message("7") });
    const idle = stream.next();
    vi.advanceTimersByTime(1500);
    expect((await idle).value).toMatchObject({ kind: "heartbeat" });
    await stream.return(undefined);
    expect(hub.subscriberCount(channel)).toBe(0);
  });
});
