/** Push mode: a stream pushes to a keeping-up consumer, falls back to next() under backpressure and back, and still ends as it must. */
import { describe, expect, it } from "vitest";
import { Hub } from "../../src/realtime/hub.js";
import { subscribe, type Frame } from "../../src/realtime/subscription.js";
import { type FrameReceiver, isPushable, type PushableFrames } from "../../src/realtime/frame-receiver.js";
import { ResourceExhaustedError } from "../../src/domain/errors.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { type FrameSink, runPump } from "../../src/edges/streams/stream-pump.js";
import type { OpenStream } from "../../src/edges/streams/stream-open.js";
import { Metrics } from "../../src/observability/metrics.js";
import { createLogger } from "../../src/observability/logger.js";

const channel = { kind: "room", id: "9" } as const;
const limits = { replayLimit: 10, queueLimit: 4, heartbeatMs: 60_000 };
let n = 5000;
const message = (): ChatMessage => ({ id: String(n++), channel, senderId: "2", senderName: "b", text: "t", createdAtMs: 0, clientMessageId: "" });
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function started(opts: { heartbeatMs?: number; signal?: AbortSignal } = {}) {
  const hub = new Hub();
  const frames = subscribe(hub, { ...limits, heartbeatMs: opts.heartbeatMs ?? limits.heartbeatMs }, { channel, since: undefined, history: async () => [], signal: opts.signal ?? new AbortController().signal });
  const ready = (await frames.next()).value as Frame;
  expect(isPushable(frames)).toBe(true);
  return { hub, frames: frames as PushableFrames, ready };
}

/** A sink whose sends complete at once until `blocked`; then each send waits for release(). */
class FakeSink {
  readonly got: Frame[] = [];
  blocked = false;
  #waiting: ((sent: boolean) => void)[] = [];
  ended: unknown = "running";
  #onEnd: (ended: unknown) => void = () => undefined;
  readonly done = new Promise<unknown>((resolve) => (this.#onEnd = resolve));

  #watchers = new Set<() => void>();

  /** Resolves once the frames sent so far satisfy `check` (re-checked on each send). */
  until(check: (got: readonly Frame[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const watcher = () => {
        if (!check(this.got)) return;
        this.#watchers.delete(watcher);
        resolve();
      };
      this.#watchers.add(watcher);
      watcher();
    });
  }

  trySend(frame: Frame): ReturnType<FrameSink["trySend"]> {
    this.got.push(frame);
    for (const watcher of [...this.#watchers]) watcher();
    if (!this.blocked) return true;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(sent = true): void {
    for (const resolve of this.#waiting.splice(0)) resolve(sent);
  }

  finish(ended: unknown): void {
    this.ended = ended;
    this.#onEnd(ended);
  }
}

function pump(hub: Hub, frames: PushableFrames, ready: Frame, sink: FakeSink, controller = new AbortController()) {
  const stream: OpenStream = {
    target: { kind: "room", roomId: "9" },
    userId: "1",
    ready,
    frames,
    signal: controller.signal,
    close: () => {
      controller.abort();
      void frames.return(undefined);
    },
  };
  const metrics = new Metrics();
  runPump(stream, { trySend: (f) => sink.trySend(f), ended: (e) => sink.finish(e) }, { metrics, logger: createLogger("silent"), transport: "ws" });
  return { metrics, hub };
}

describe("push mode", () => {
  it("pushes live messages to a receiver, and leaves push mode when it returns false", async () => {
    const { hub, frames } = await started();
    const pushed: Frame[] = [];
    let pulls = 0;
    const receiver: FrameReceiver = { push: (f) => (pushed.push(f), pushed.length < 2), pull: () => pulls++ };
    expect(frames.pushTo(receiver)).toBe(true);
    const burst = [message(), message(), message()];
    for (const m of burst) hub.dispatch({ type: "message", message: m });
    expect(pushed).toEqual([]); // not before the burst is over
    await tick();
    expect(pushed).toEqual(burst.slice(0, 2).map((m) => ({ kind: "message", message: m })));
    // The third stays buffered: the receiver cannot be pushed to until it is read.
    expect(frames.pushTo(receiver)).toBe(false);
    expect((await frames.next()).value).toEqual({ kind: "message", message: burst[2] });
    expect(frames.pushTo(receiver)).toBe(true);
    await frames.return(undefined);
    expect(pulls).toBe(1);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("switches push → pull → push under backpressure keeping order and exactly-once", async () => {
    const { hub, frames, ready } = await started();
    const sink = new FakeSink();
    const { metrics } = pump(hub, frames, ready, sink);
    await tick();
    const sent: ChatMessage[] = [];
    const post = (count: number) => {
      for (let i = 0; i < count; i++) {
        const m = message();
        sent.push(m);
        hub.dispatch({ type: "message", message: m });
      }
    };
    post(2);
    await tick();
    sink.blocked = true;
    post(3); // the first of these waits for the client; the rest stay buffered
    await tick();
    post(1);
    await tick();
    sink.blocked = false;
    sink.release();
    await tick();
    post(3); // pushed again
    await tick();
    const messages = sink.got.filter((f) => f.kind === "message").map((f) => (f.kind === "message" ? f.message : undefined));
    expect(messages).toEqual(sent);
    expect(sink.ended).toBe("running");
    expect((await metrics.messagesDelivered.get()).values[0]?.value).toBe(sent.length);
    await frames.return(undefined);
    expect(await sink.done).toBeUndefined();
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("ends with ResourceExhaustedError when the queue overflows while pulling", async () => {
    const { hub, frames, ready } = await started();
    const sink = new FakeSink();
    pump(hub, frames, ready, sink);
    await tick();
    sink.blocked = true;
    hub.dispatch({ type: "message", message: message() });
    await tick(); // pushed; its send waits
    for (let i = 0; i < limits.queueLimit + 1; i++) {
      hub.dispatch({ type: "message", message: message() });
      await tick();
    }
    expect(sink.ended).toBe("running");
    sink.release();
    expect(await sink.done).toBeInstanceOf(ResourceExhaustedError);
    expect(sink.got.filter((f) => f.kind === "message")).toHaveLength(1);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("ends with ResourceExhaustedError when a burst overflows while pushed, handing over none of it", async () => {
    const { hub, frames, ready } = await started();
    const sink = new FakeSink();
    pump(hub, frames, ready, sink);
    await tick();
    for (let i = 0; i < limits.queueLimit + 1; i++) hub.dispatch({ type: "message", message: message() });
    expect(await sink.done).toBeInstanceOf(ResourceExhaustedError);
    expect(sink.got.filter((f) => f.kind === "message")).toHaveLength(0);
  });

  it("pushes heartbeats while pushed and idle, and messages after them", async () => {
    const { hub, frames, ready } = await started({ heartbeatMs: 20 });
    const sink = new FakeSink();
    pump(hub, frames, ready, sink);
    // Idle until the first heartbeat is pushed (every 20 ms); the test's timeout bounds the wait.
    await sink.until((got) => got.some((f) => f.kind === "heartbeat"));
    const m = message();
    hub.dispatch({ type: "message", message: m });
    await tick();
    const kinds = sink.got.map((f) => f.kind);
    expect(kinds[0]).toBe("ready");
    expect(kinds.filter((k) => k === "heartbeat").length).toBeGreaterThanOrEqual(1);
    expect(sink.got.at(-1)).toEqual({ kind: "message", message: m });
    await frames.return(undefined);
    await sink.done;
  });

  it("ends a pushed stream on abort with the reason", async () => {
    const controller = new AbortController();
    const { hub, frames, ready } = await started({ signal: controller.signal });
    const sink = new FakeSink();
    pump(hub, frames, ready, sink, controller);
    await tick();
    controller.abort();
    expect(await sink.done).toBeUndefined();
    expect(hub.subscriberCount(channel)).toBe(0);
  });
});

describe("push mode with read frames", () => {
  it("pushes a read frame among the messages, in dispatch order", async () => {
    const inbox = { kind: "user", id: "2" } as const;
    const hub = new Hub();
    const frames = subscribe(hub, limits, { channel: inbox, since: undefined, history: async () => [], signal: new AbortController().signal }) as PushableFrames;
    await frames.next();
    const pushed: Frame[] = [];
    expect(frames.pushTo({ push: (f) => (pushed.push(f), true), pull: () => undefined })).toBe(true);
    const first = { ...message(), channel: inbox };
    const second = { ...message(), channel: inbox };
    const state = { channel: { kind: "direct", withUserId: "3" } as const, lastReadMessageId: first.id, unreadCount: 0, moreUnread: false };
    hub.dispatch({ type: "message", message: first });
    hub.dispatch({ type: "read", userId: "2", state });
    hub.dispatch({ type: "message", message: second });
    await tick();
    expect(pushed).toEqual([{ kind: "message", message: first }, { kind: "read", state }, { kind: "message", message: second }]);
    await frames.return(undefined);
  });
});

describe("push mode with typing frames", () => {
  it("pushes others' typing among the messages, in dispatch order, and skips the viewer's own", async () => {
    const room = { kind: "room", id: "9" } as const;
    const hub = new Hub();
    const frames = subscribe(hub, limits, { channel: room, since: undefined, history: async () => [], signal: new AbortController().signal, viewer: { userId: "1", username: "u1" } }) as PushableFrames;
    await frames.next();
    const pushed: Frame[] = [];
    expect(frames.pushTo({ push: (f) => (pushed.push(f), true), pull: () => undefined })).toBe(true);
    const first = { ...message(), channel: room };
    const typing = (typistId: string) => ({ channel: room, typistId, typistName: "t", untilMs: 6_000, stopped: false });
    hub.dispatch({ type: "typing", typing: typing("1") });
    hub.dispatch({ type: "message", message: first });
    hub.dispatch({ type: "typing", typing: typing("2") });
    await tick();
    expect(pushed).toEqual([{ kind: "message", message: first }, { kind: "typing", typing: typing("2") }]);
    await frames.return(undefined);
  });
});
