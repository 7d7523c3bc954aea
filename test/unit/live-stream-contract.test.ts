/**
 * LiveStream (live-stream.ts, with its unread-queue.ts) driven by hand:
 * the stream is built directly and the hub's, the ticker's and the hand-over batch's calls
 * (deliver, wake, handOver) are made by the test, on a fake Date, with no timer. What it pins
 * down: which messages are wanted (ids compared by value across the 17 → 18 digit step, replayed
 * ids dropped), when push mode may start and how it ends, what a waiting reader gets and when,
 * the overflow (counted once), and that an ended stream lets go of everything it registered.
 */
import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ResourceExhaustedError, UnauthenticatedError } from "../../src/domain/errors.js";
import type { ChatMessage, MessagePage } from "../../src/domain/model.js";
import type { FrameReceiver } from "../../src/realtime/frame-receiver.js";
import { Hub } from "../../src/realtime/hub.js";
import { LiveStream } from "../../src/realtime/live-stream.js";
import type { Frame } from "../../src/realtime/subscription.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const channel = { kind: "room", id: "9" } as const;
/** A heartbeat period no other test uses, so this file's streams are the only ones on its ticker. */
const HEARTBEAT_MS = 424_242;
const T0 = Date.UTC(2026, 0, 1);

const msg = (id: string): ChatMessage => ({ id, channel, senderId: "2", senderName: "b", text: `#${id}`, createdAtMs: 0, clientMessageId: "" });
const frame = (message: ChatMessage) => ({ done: false, value: { kind: "message", message } });
const DONE = { done: true, value: undefined };
/** Lets queued microtasks (the hand-over batch) run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
/** The promise's result if it settled by the next macrotask, else "pending". */
const settled = async <T,>(promise: Promise<T>): Promise<T | "pending"> => Promise.race([promise, tick().then(() => "pending" as const)]);

interface Options {
  since?: string;
  /** Stored messages, oldest first; history() serves them newest first like a store. */
  stored?: ChatMessage[];
  history?: (page: MessagePage) => Promise<ChatMessage[]>;
  queueLimit?: number;
  replayLimit?: number;
  signal?: AbortSignal;
}

/** Streams opened by the current test, ended after it so that the ticker counts start from zero. */
const opened: LiveStream[] = [];
/** Their hubs, whose heartbeat tickers must watch nothing once the streams ended. */
const hubs: Hub[] = [];

function open(options: Options = {}) {
  const hub = new Hub();
  hubs.push(hub);
  const overflows = { count: 0 };
  const stored = options.stored ?? [];
  const history =
    options.history ??
    (async (page: MessagePage) => {
      const after = page.after === undefined ? undefined : BigInt(page.after);
      return stored.filter((m) => after === undefined || BigInt(m.id) > after).reverse().slice(0, page.limit);
    });
  const limits = { replayLimit: options.replayLimit ?? 10, queueLimit: options.queueLimit ?? 3, heartbeatMs: HEARTBEAT_MS, onOverflow: () => overflows.count++ };
  const signal = options.signal ?? new AbortController().signal;
  const stream = new LiveStream(hub, limits, { channel, since: options.since, history, signal });
  opened.push(stream);
  return { hub, stream, overflows, signal };
}

/** An open stream whose Ready frame has been read. */
async function live(options: Options = {}) {
  const opened = open(options);
  const ready = await opened.stream.next();
  expect(ready).toMatchObject({ done: false, value: { kind: "ready" } });
  return opened;
}

/** A receiver that records what it gets; `onPush` decides what push() returns (true when absent). */
class Receiver implements FrameReceiver {
  readonly frames: Frame[] = [];
  pulls = 0;
  constructor(private readonly onPush?: (frame: Frame) => boolean) {}
  push(f: Frame): boolean {
    this.frames.push(f);
    return this.onPush?.(f) ?? true;
  }
  pull(): void {
    this.pulls++;
  }
  get messages(): string[] {
    return this.frames.flatMap((f) => (f.kind === "message" ? [f.message.id] : []));
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
});
afterEach(async () => {
  vi.useRealTimers();
  for (const stream of opened.splice(0)) await stream.return(undefined);
  for (const hub of hubs.splice(0)) expect(hub.heartbeats.for(HEARTBEAT_MS).size).toBe(0);
});

describe("which live messages a stream wants", () => {
  it("only ids after its position, compared by value: an 18-digit id follows a 17-digit position", async () => {
    const { stream } = await live({ since: "99999999999999990" });
    const waiting = stream.next();
    for (const id of ["99999999999999989", "99999999999999990", "100000000000000000"]) stream.deliver(msg(id));
    expect(await waiting).toEqual(frame(msg("100000000000000000")));
  });

  it("takes its position from the newest stored id when not resuming, whatever its length", async () => {
    const { stream } = open({ stored: [msg("99999999999999998"), msg("99999999999999999")] });
    expect(await stream.next()).toEqual({ done: false, value: { kind: "ready", position: "99999999999999999", heartbeatMs: HEARTBEAT_MS } });
    const waiting = stream.next();
    stream.deliver(msg("99999999999999999"));
    stream.deliver(msg("100000000000000001"));
    expect(await waiting).toEqual(frame(msg("100000000000000001")));
  });

  it("drops the live copy of a replayed message, and nothing else", async () => {
    const { stream } = open({ since: "99999999999999990", stored: [msg("99999999999999995"), msg("100000000000000000")] });
    const frames = [await stream.next(), await stream.next(), await stream.next()];
    expect(frames.map((f) => f.value)).toEqual([
      { kind: "ready", position: "99999999999999990", heartbeatMs: HEARTBEAT_MS },
      { kind: "message", message: msg("99999999999999995") },
      { kind: "message", message: msg("100000000000000000") },
    ]);
    const waiting = stream.next();
    stream.deliver(msg("100000000000000000"));
    stream.deliver(msg("100000000000000002"));
    expect(await waiting).toEqual(frame(msg("100000000000000002")));
  });

  it("leaves a waiting reader waiting when every message handed over is unwanted", async () => {
    const { stream } = await live({ since: "99999999999999990" });
    const waiting = stream.next();
    for (const id of ["99999999999999989", "99999999999999990"]) stream.deliver(msg(id));
    expect(await settled(waiting)).toBe("pending");
    stream.deliver(msg("100000000000000000"));
    expect(await waiting).toEqual(frame(msg("100000000000000000")));
  });

  it("pushes only wanted messages too", async () => {
    const { stream } = await live({ since: "99999999999999990" });
    const receiver = new Receiver();
    expect(stream.pushTo(receiver)).toBe(true);
    for (const id of ["99999999999999990", "100000000000000000", "99999999999999991"]) stream.deliver(msg(id));
    await tick();
    expect(receiver.messages).toEqual(["100000000000000000", "99999999999999991"]);
  });
});

describe("the preamble", () => {
  it("sends Ready, then a Gap when the replay is cut, then the newest replayed messages oldest first", async () => {
    const stored = ["101", "102", "103", "104", "105"].map(msg);
    const { stream } = open({ since: "100", stored, replayLimit: 3 });
    const frames: unknown[] = [];
    for (let i = 0; i < 5; i++) frames.push(await stream.next());
    expect(frames).toEqual([
      { done: false, value: { kind: "ready", position: "100", heartbeatMs: HEARTBEAT_MS } },
      { done: false, value: { kind: "gap", after: "100", before: "103" } },
      frame(msg("103")),
      frame(msg("104")),
      frame(msg("105")),
    ]);
  });

  it("refuses push mode until every preamble frame is read", async () => {
    const { stream } = open({ since: "100", stored: [msg("101"), msg("102")] });
    await stream.next();
    expect(stream.pushTo(new Receiver())).toBe(false);
    await stream.next();
    expect(stream.pushTo(new Receiver())).toBe(false);
    await stream.next();
    expect(stream.pushTo(new Receiver())).toBe(true);
  });
});

describe("starting", () => {
  it("answers a second next() asked during the start after the first", async () => {
    const { stream } = open();
    const first = stream.next();
    const second = stream.next();
    expect(await first).toEqual({ done: false, value: { kind: "ready", position: "0", heartbeatMs: HEARTBEAT_MS } });
    expect(await settled(second)).toBe("pending");
    stream.deliver(msg("7"));
    expect(await second).toEqual(frame(msg("7")));
  });

  it("stays ended when return() comes while the store is read", async () => {
    let answer: (messages: ChatMessage[]) => void = () => undefined;
    const { stream, hub } = open({ history: () => new Promise((resolve) => (answer = resolve)) });
    const first = stream.next();
    await tick();
    expect(await stream.return(undefined)).toEqual(DONE);
    answer([]);
    expect(await first).toEqual(DONE);
    expect(hub.subscriberCount(channel)).toBe(0);
    expect(stream.pushTo(new Receiver())).toBe(false);
  });

  it("ends, unregistered, when the store read fails; later reads are done", async () => {
    const failure = new Error("store down");
    const signal = new AbortController().signal;
    const { stream, hub } = open({ history: async () => Promise.reject(failure), signal });
    await expect(stream.next()).rejects.toBe(failure);
    expect(hub.subscriberCount(channel)).toBe(0);
    expect(hub.heartbeats.for(HEARTBEAT_MS).size).toBe(0);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    expect(await stream.next()).toEqual(DONE);
  });

  it("registers nothing before the first next(), and refuses push mode then", async () => {
    const { stream, hub } = open();
    expect(stream.pushTo(new Receiver())).toBe(false);
    expect(hub.subscriberCount(channel)).toBe(0);
    await stream.next();
    expect(hub.subscriberCount(channel)).toBe(1);
    expect(hub.heartbeats.for(HEARTBEAT_MS).size).toBe(1);
    await stream.return(undefined);
  });
});

describe("a waiting reader", () => {
  it("is idle from the moment it waits until it is answered", async () => {
    const { stream } = await live();
    expect(stream.idleSinceMs).toBeUndefined();
    vi.setSystemTime(T0 + 100);
    const waiting = stream.next();
    expect(stream.idleSinceMs).toBe(T0 + 100);
    stream.deliver(msg("1"));
    expect(await waiting).toEqual(frame(msg("1")));
    expect(stream.idleSinceMs).toBeUndefined();
  });

  it("gets a heartbeat stamped now when woken", async () => {
    const { stream } = await live();
    const waiting = stream.next();
    vi.setSystemTime(T0 + 5000);
    stream.wake();
    expect(await waiting).toEqual({ done: false, value: { kind: "heartbeat", atMs: T0 + 5000 } });
    expect(stream.idleSinceMs).toBeUndefined();
  });

  it("gets the message, not a heartbeat, when woken while a hand-over is due", async () => {
    const { stream } = await live();
    const waiting = stream.next();
    stream.deliver(msg("1"));
    stream.wake();
    expect(await waiting).toEqual(frame(msg("1")));
  });

  it("a wake while nobody waits is ignored", async () => {
    const { stream } = await live();
    expect(() => stream.wake()).not.toThrow();
    const waiting = stream.next();
    expect(await settled(waiting)).toBe("pending");
    stream.deliver(msg("1"));
    expect(await waiting).toEqual(frame(msg("1")));
  });

  it("a reader that asks again before its last next() settled queues behind it", async () => {
    const { stream } = await live();
    const first = stream.next();
    const second = stream.next();
    stream.deliver(msg("1"));
    stream.deliver(msg("2"));
    expect([await first, await second]).toEqual([frame(msg("1")), frame(msg("2"))]);
  });
});

describe("overflow", () => {
  it("counts one overflow, ends the stream before anything buffered is read, and ignores later deliveries", async () => {
    const { stream, overflows } = await live({ queueLimit: 3 });
    for (const id of ["1", "2", "3"]) stream.deliver(msg(id));
    expect(overflows.count).toBe(0);
    stream.deliver(msg("4"));
    expect(overflows.count).toBe(1);
    for (const id of ["5", "6", "7", "8"]) stream.deliver(msg(id));
    expect(overflows.count).toBe(1);
    stream.wake();
    await expect(stream.next()).rejects.toEqual(
      new ResourceExhaustedError("subscriber fell too far behind; resume with `since` set to the last message id received"),
    );
    expect(await stream.next()).toEqual(DONE);
    for (const id of ["9", "10", "11", "12", "13"]) stream.deliver(msg(id));
    expect(overflows.count).toBe(1);
  });

  it("an ended stream takes no delivery: no overflow however many arrive", async () => {
    const { stream, overflows } = await live({ queueLimit: 2 });
    await stream.return(undefined);
    for (const id of ["1", "2", "3", "4"]) stream.deliver(msg(id));
    expect(overflows.count).toBe(0);
    expect(await stream.next()).toEqual(DONE);
  });
});

describe("abort", () => {
  it("ends a busy reader's stream with the abort reason at its next read", async () => {
    const controller = new AbortController();
    const { stream } = await live({ signal: controller.signal });
    controller.abort(new UnauthenticatedError("signed out"));
    expect(stream.pushTo(new Receiver())).toBe(false);
    await expect(stream.next()).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(await stream.next()).toEqual(DONE);
  });
});

describe("push mode", () => {
  it("is refused while a next() is pending, and left when the consumer pulls", async () => {
    const { stream } = await live();
    const pending = stream.next();
    expect(stream.pushTo(new Receiver())).toBe(false);
    stream.deliver(msg("1"));
    expect(await pending).toEqual(frame(msg("1")));

    const receiver = new Receiver();
    expect(stream.pushTo(receiver)).toBe(true);
    expect(stream.pushTo(new Receiver())).toBe(false);
    const pulled = stream.next();
    stream.deliver(msg("2"));
    expect(await pulled).toEqual(frame(msg("2")));
    expect(receiver.frames).toEqual([]);
  });

  it("is idle since entering and since each push, and not once it leaves", async () => {
    const { stream } = await live();
    let accept = true;
    const receiver = new Receiver(() => accept);
    vi.setSystemTime(T0 + 10);
    expect(stream.pushTo(receiver)).toBe(true);
    expect(stream.idleSinceMs).toBe(T0 + 10);
    vi.setSystemTime(T0 + 20);
    stream.wake();
    expect(receiver.frames).toEqual([{ kind: "heartbeat", atMs: T0 + 20 }]);
    expect(stream.idleSinceMs).toBe(T0 + 20);
    vi.setSystemTime(T0 + 30);
    stream.deliver(msg("1"));
    await tick();
    expect(stream.idleSinceMs).toBe(T0 + 30);
    accept = false;
    stream.wake();
    expect(stream.idleSinceMs).toBeUndefined();
    expect(stream.pushTo(receiver)).toBe(true);
  });

  it("keeps a receiver that took over from inside the old one's push()", async () => {
    const { stream } = await live();
    const second = new Receiver();
    let pulled: Promise<IteratorResult<Frame>> | undefined;
    const first = new Receiver(() => {
      pulled = stream.next();
      expect(stream.pushTo(second)).toBe(true);
      return false;
    });
    expect(stream.pushTo(first)).toBe(true);
    stream.deliver(msg("1"));
    stream.deliver(msg("2"));
    await tick();
    expect(first.messages).toEqual(["1"]);
    expect(await pulled).toEqual(frame(msg("2")));
    stream.deliver(msg("3"));
    await tick();
    expect(second.messages).toEqual(["3"]);
  });

  it("stops pushing when the receiver pulls from inside push(), leaving the rest to next()", async () => {
    const { stream } = await live();
    let pulled: Promise<IteratorResult<Frame>> | undefined;
    const receiver = new Receiver(() => {
      pulled ??= stream.next();
      return true;
    });
    expect(stream.pushTo(receiver)).toBe(true);
    for (const id of ["1", "2", "3"]) stream.deliver(msg(id));
    await tick();
    expect(receiver.messages).toEqual(["1"]);
    expect(await pulled).toEqual(frame(msg("2")));
    expect(await stream.next()).toEqual(frame(msg("3")));
  });

  it("a stream ended from inside a pushed heartbeat is not idle", async () => {
    const { stream } = await live();
    const receiver = new Receiver(() => {
      void stream.return(undefined);
      return true;
    });
    expect(stream.pushTo(receiver)).toBe(true);
    stream.wake();
    expect(receiver.frames).toHaveLength(1);
    expect(stream.idleSinceMs).toBeUndefined();
  });

  it("hands messages that arrive after a pull-and-read to the next read, in order", async () => {
    const { stream } = await live();
    const receiver = new Receiver();
    expect(stream.pushTo(receiver)).toBe(true);
    stream.deliver(msg("1"));
    stream.deliver(msg("2"));
    // The consumer pulls before the hand-over runs: it reads the first at once.
    expect(await stream.next()).toEqual(frame(msg("1")));
    await tick();
    expect(await settled(stream.next())).toEqual(frame(msg("2")));
    expect(receiver.frames).toEqual([]);
  });

  it("tells the receiver to pull once when the stream ends, however it ends", async () => {
    const controller = new AbortController();
    const { stream } = await live({ signal: controller.signal });
    const receiver = new Receiver();
    expect(stream.pushTo(receiver)).toBe(true);
    controller.abort();
    expect(receiver.pulls).toBe(1);
    expect(stream.idleSinceMs).toBeUndefined();
    await stream.return(undefined);
    expect(receiver.pulls).toBe(1);
    expect(receiver.frames).toEqual([]);
  });
});

describe("ending", () => {
  it("return(), throw() and asyncDispose unregister everything; later reads are done", async () => {
    for (const end of ["return", "throw", "dispose"] as const) {
      const signal = new AbortController().signal;
      const { stream, hub } = await live({ signal });
      expect(getEventListeners(signal, "abort")).toHaveLength(1);
      expect(hub.heartbeats.for(HEARTBEAT_MS).size).toBe(1);
      const waiting = stream.next();
      const failure = new Error("consumer gave up");
      if (end === "return") expect(await stream.return(undefined)).toEqual(DONE);
      if (end === "throw") await expect(stream.throw(failure)).rejects.toBe(failure);
      if (end === "dispose") await stream[Symbol.asyncDispose]();
      expect(await waiting, end).toEqual(DONE);
      expect(hub.subscriberCount(channel), end).toBe(0);
      expect(hub.heartbeats.for(HEARTBEAT_MS).size, end).toBe(0);
      expect(getEventListeners(signal, "abort"), end).toHaveLength(0);
      expect(await stream.next(), end).toEqual(DONE);
    }
  });

  it("is its own async iterator", async () => {
    const { stream } = open();
    expect(stream[Symbol.asyncIterator]()).toBe(stream);
  });

  it("lets go of the messages it had buffered", async () => {
    const { stream } = await live({ queueLimit: 10 });
    // Made and delivered in a plain function: a suspended async function may keep its last local alive.
    const deliverAll = (ids: string[]) =>
      ids.map((id) => {
        const m = msg(id);
        stream.deliver(m);
        return new WeakRef(m);
      });
    const refs = deliverAll(["1", "2", "3"]);
    await stream.return(undefined);
    await tick();
    gc();
    expect(refs.map((ref) => ref.deref()?.id)).toEqual([undefined, undefined, undefined]);
  });
});
