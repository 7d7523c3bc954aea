/** The shared heartbeat ticker and the frame queue's waits: no timer per wait, wakes after a period of idleness. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { HeartbeatTicker, type Idler } from "../../src/realtime/heartbeat-ticker.js";
import { FrameQueue } from "../../src/realtime/frame-queue.js";
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
    const ticker = HeartbeatTicker.for(1000);
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
    expect(HeartbeatTicker.for(5000)).toBe(HeartbeatTicker.for(5000));
    expect(HeartbeatTicker.for(5000)).not.toBe(HeartbeatTicker.for(6000));
    const ticker = HeartbeatTicker.for(5000);
    const idler: Idler = { idleSinceMs: undefined, wake: () => undefined };
    ticker.add(idler);
    expect(vi.getTimerCount()).toBe(1);
    ticker.remove(idler);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("FrameQueue", () => {
  it("is idle only while waiting, and a push ends the wait without any timer", async () => {
    vi.useFakeTimers({ now: 42 });
    const queue = new FrameQueue(10);
    expect(queue.idleSinceMs).toBeUndefined();
    const waiting = queue.wait();
    expect(queue.idleSinceMs).toBe(42);
    expect(vi.getTimerCount()).toBe(0);
    queue.push(message("1"));
    await waiting;
    expect(queue.idleSinceMs).toBeUndefined();
    expect(queue.shift()?.id).toBe("1");
    expect(queue.size).toBe(0);
  });

  it("overflows past its capacity and wakes its reader", async () => {
    const queue = new FrameQueue(2);
    const waiting = queue.wait();
    expect(queue.push(message("1"))).toBe(true);
    expect(queue.push(message("2"))).toBe(true);
    expect(queue.push(message("3"))).toBe(false);
    await waiting;
    expect(queue.overflowed).toBe(true);
    expect([queue.shift()?.id, queue.shift()?.id, queue.shift()]).toEqual(["1", "2", undefined]);
  });
});
