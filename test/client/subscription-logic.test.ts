/**
 * The subscription's decisions, against scripted servers over connect's in-memory transport
 * (what the web page's live-stream tests covered, now the library's): resume with the last id,
 * drop repeats, stop on UNAUTHENTICATED, honour Retry-After, page gaps in order, backoff.
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { backoffDelay, compareIds, createParleyClient, maxId, type Message, type SubscriptionState } from "@parley/client";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { MessageSchema } from "../../gen/chat/v1/types_pb.js";
import { pagesOldestFirst } from "../../client/src/gap-fill.js";

type Frame = ReturnType<NonNullable<ServiceImpl<typeof MessageService>["subscribeRoom"]>> extends AsyncIterable<infer F> ? F : never;
const ready = (position: string): Frame => ({ frame: { case: "ready", value: { position } } });
const message = (messageId: string): Message => create(MessageSchema, { messageId, text: `text ${messageId}`, createdAt: timestampNow() });
const frame = (messageId: string): Frame => ({ frame: { case: "message", value: message(messageId) } });

/** Resolves when the signal aborts (a stream the client ends). */
const untilAborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener("abort", () => resolve()));

/** A client over an in-memory server whose SubscribeRoom runs `script` for each open (n = 1, 2, …). */
function scripted(script: (n: number, since: string, signal: AbortSignal) => AsyncIterable<Frame>, list: (after: string, before: string, pageSize: number) => Message[] = () => []) {
  const sinces: string[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(MessageService, {
      subscribeRoom(req, ctx) {
        sinces.push(req.since);
        return script(sinces.length, req.since, ctx.signal);
      },
      listMessages: (req) => ({ messages: list(req.after, req.before, req.pageSize) }),
    });
  });
  const client = createParleyClient({ transport, token: "t", heartbeatIntervalMs: 60_000, backoff: { initialMs: 5, maxMs: 20 } });
  return { client, sinces };
}

/** Records a subscription's messages and states; `until` waits for a state. */
function recorder() {
  const seen: string[] = [];
  const states: SubscriptionState[] = [];
  const waiters: { test: (s: SubscriptionState) => boolean; resolve: () => void }[] = [];
  return {
    seen,
    states,
    onMessage: (m: Message) => void seen.push(m.messageId),
    onState: (s: SubscriptionState) => {
      states.push(s);
      for (const w of waiters.filter((w) => w.test(s))) w.resolve();
    },
    until: (test: (s: SubscriptionState) => boolean) => new Promise<void>((resolve) => waiters.push({ test, resolve })),
  };
}

describe("a subscription", () => {
  it("resumes after a drop with since = the last message id, dropping what it already delivered", async () => {
    const { client, sinces } = scripted(async function* (n, since, signal) {
      if (n === 1) {
        yield ready("0");
        yield frame("18446744073709551000");
        yield frame("18446744073709551001");
        throw new ConnectError("connection reset", Code.Unavailable);
      }
      yield ready(since);
      yield frame("18446744073709551001"); // a repeat: not delivered again
      yield frame("18446744073709551002");
      await untilAborted(signal);
    });
    const r = recorder();
    const second = r.until((s) => s.status === "live" && r.states.filter((x) => x.status === "live").length === 2);
    const sub = client.subscribeRoom("1", { onMessage: r.onMessage, onState: r.onState });
    await second;
    await expect.poll(() => r.seen.length).toBe(3);
    expect(sinces).toEqual(["", "18446744073709551001"]);
    expect(r.seen).toEqual(["18446744073709551000", "18446744073709551001", "18446744073709551002"]);
    expect(r.states.map((s) => s.status)).toEqual(["connecting", "live", "reconnecting", "live"]);
    expect(sub.position).toBe("18446744073709551002");
    sub.close();
    expect(sub.state).toEqual({ status: "closed", reason: "closed" });
  });

  it("reconnects when the server ends the stream without an error", async () => {
    const { client, sinces } = scripted(async function* (n, since, signal) {
      yield ready(since);
      if (n === 1) return yield frame("9");
      await untilAborted(signal);
    });
    const r = recorder();
    const sub = client.subscribeRoom("1", { since: "7", onMessage: r.onMessage, onState: r.onState });
    await r.until((s) => s.status === "reconnecting");
    await r.until((s) => s.status === "live");
    expect(sinces).toEqual(["7", "9"]);
    expect(r.states.find((s) => s.status === "reconnecting")).toMatchObject({ reason: "ended" });
    sub.close();
  });

  it("stops for good on UNAUTHENTICATED, and resume() starts again from its position", async () => {
    // Fake timers: once closed, running every timer there is shows that no reconnect was scheduled.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    onTestFinished(() => void vi.useRealTimers());
    const { client, sinces } = scripted(async function* (n, since, signal) {
      if (n === 1) throw new ConnectError("token revoked", Code.Unauthenticated);
      yield ready(since);
      await untilAborted(signal);
    });
    const r = recorder();
    const sub = client.subscribeRoom("1", { since: "5", onMessage: r.onMessage, onState: r.onState });
    await r.until((s) => s.status === "closed");
    expect(sub.state).toMatchObject({ status: "closed", reason: "unauthenticated" });
    await vi.runAllTimersAsync();
    expect(sinces).toEqual(["5"]);
    client.setToken("new");
    sub.resume();
    await r.until((s) => s.status === "live");
    expect(sinces).toEqual(["5", "5"]);
    sub.close();
  });

  it("waits the server's Retry-After before reconnecting", async () => {
    const { client } = scripted(async function* (n, since, signal) {
      if (n === 1) throw new ConnectError("rate limit exceeded: retry in 1s", Code.ResourceExhausted, { "retry-after": "1" });
      yield ready(since);
      await untilAborted(signal);
    });
    const r = recorder();
    const sub = client.subscribeRoom("1", { onMessage: r.onMessage, onState: r.onState });
    await r.until((s) => s.status === "live");
    expect(r.states[1]).toMatchObject({ status: "reconnecting", reason: "rate-limited", retryInMs: 1000 });
    sub.close();
  });

  it("closes with handler-error when onMessage throws, without moving past that message", async () => {
    const { client, sinces } = scripted(async function* (_n, since, signal) {
      yield ready(since || "0");
      yield frame("10");
      yield frame("11");
      await untilAborted(signal);
    });
    const r = recorder();
    let fail = true;
    const sub = client.subscribeRoom("1", {
      onMessage: (m) => {
        if (m.messageId === "11" && fail) throw new Error("app bug");
        r.onMessage(m);
      },
      onState: r.onState,
    });
    await r.until((s) => s.status === "closed");
    expect(sub.state).toMatchObject({ status: "closed", reason: "handler-error" });
    expect(sub.position).toBe("10");
    fail = false;
    sub.resume();
    await expect.poll(() => r.seen).toEqual(["10", "11"]);
    expect(sinces).toEqual(["", "10"]);
    sub.close();
  });

  it("fills a gap from the history, oldest first, before the stream goes on", async () => {
    const history = Array.from({ length: 40 }, (_, i) => message(String(100 + i)));
    const { client } = scripted(
      async function* (_n, since, signal) {
        yield ready(since);
        yield { frame: { case: "gap", value: { after: since, before: "130" } } };
        for (let id = 130; id < 140; id++) yield frame(String(id));
        await untilAborted(signal);
      },
      (after, before, pageSize) =>
        history
          .filter((m) => compareIds(m.messageId, after) > 0 && compareIds(m.messageId, before) < 0)
          .reverse()
          .slice(0, pageSize),
    );
    const r = recorder();
    const gaps: unknown[] = [];
    const sub = client.subscribeRoom("1", { since: "104", gapPageSize: 7, onMessage: r.onMessage, onState: r.onState, onGap: (g) => gaps.push(g) });
    await expect.poll(() => r.seen.length).toBe(35);
    expect(r.seen).toEqual(Array.from({ length: 35 }, (_, i) => String(105 + i)));
    expect(gaps).toEqual([{ after: "104", before: "130" }]);
    sub.close();
  });
});

describe("a subscription with gaps: \"surface\"", () => {
  it("tells the app about the gap and goes on with the stream, paging nothing", async () => {
    let listed = 0;
    const { client } = scripted(
      async function* (_n, since, signal) {
        yield ready(since);
        yield { frame: { case: "gap", value: { after: since, before: "130" } } };
        yield frame("130");
        await untilAborted(signal);
      },
      () => {
        listed++;
        return [];
      },
    );
    const r = recorder();
    const gaps: unknown[] = [];
    const sub = client.subscribeRoom("1", { since: "104", gaps: "surface", onMessage: r.onMessage, onState: r.onState, onGap: (g) => gaps.push(g) });
    await expect.poll(() => r.seen).toEqual(["130"]);
    expect(gaps).toEqual([{ after: "104", before: "130" }]);
    expect(listed).toBe(0);
    sub.close();
  });
});

describe("pagesOldestFirst", () => {
  const ids = Array.from({ length: 23 }, (_, i) => String(1000 + i * 3));
  const page = async ({ after, before, pageSize }: { after: string; before: string; pageSize: number }) =>
    ids
      .filter((id) => compareIds(id, after) > 0 && compareIds(id, before) < 0)
      .reverse()
      .slice(0, pageSize)
      .map(message);
  const all = async (options: { pageSize: number; holdMessages?: number }, after = "999", before = "2000") => {
    const out: string[] = [];
    for await (const messages of pagesOldestFirst(page, after, before, options)) out.push(...messages.map((m) => m.messageId));
    return out;
  };

  it("yields every message between the bounds once, oldest first, held in memory or read again", async () => {
    expect(await all({ pageSize: 5 })).toEqual(ids);
    expect(await all({ pageSize: 5, holdMessages: 0 })).toEqual(ids);
    expect(await all({ pageSize: 23, holdMessages: 0 })).toEqual(ids);
    expect(await all({ pageSize: 1, holdMessages: 3 })).toEqual(ids);
    expect(await all({ pageSize: 4 }, "1003", "1009")).toEqual(["1006"]);
    expect(await all({ pageSize: 4 }, "1003", "1006")).toEqual([]);
  });
});

describe("a direct-message subscription", () => {
  type DirectFrame = ReturnType<NonNullable<ServiceImpl<typeof MessageService>["subscribeDirectMessages"]>> extends AsyncIterable<infer F> ? F : never;
  const dm = (messageId: string): DirectFrame => ({ frame: { case: "message", value: message(messageId) } });
  const readRoom = (roomId: string, lastReadMessageId: string, unreadCount: number): DirectFrame => ({
    frame: { case: "read", value: { channel: { case: "roomId", value: roomId }, lastReadMessageId, unreadCount } },
  });

  /** A client over an in-memory server whose SubscribeDirectMessages runs `script` for each open (n = 1, 2, …). */
  function scriptedDirect(script: (n: number, since: string, signal: AbortSignal) => AsyncIterable<DirectFrame>) {
    const sinces: string[] = [];
    const transport = createRouterTransport(({ service }) => {
      service(MessageService, {
        subscribeDirectMessages(req, ctx) {
          sinces.push(req.since);
          return script(sinces.length, req.since, ctx.signal);
        },
      });
    });
    const client = createParleyClient({ transport, token: "t", heartbeatIntervalMs: 60_000, backoff: { initialMs: 5, maxMs: 20 } });
    return { client, sinces };
  }

  it("hands read frames to onRead in stream order, and resumes after the last message, not after a read frame", async () => {
    const { client, sinces } = scriptedDirect(async function* (n, since, signal) {
      if (n === 1) {
        yield { frame: { case: "ready", value: { position: "0" } } };
        yield dm("10");
        yield readRoom("7", "10", 0);
        yield dm("11");
        // A read state naming a newer message than any delivered: still no position.
        yield readRoom("8", "99", 2);
        throw new ConnectError("connection reset", Code.Unavailable);
      }
      yield { frame: { case: "ready", value: { position: since } } };
      yield dm("12");
      await untilAborted(signal);
    });
    const events: string[] = [];
    const r = recorder();
    const sub = client.subscribeDirectMessages({
      onMessage: (m) => void events.push(`message ${m.messageId}`),
      onRead: (state) => void events.push(`read ${String(state.channel.value)} ${state.lastReadMessageId} ${state.unreadCount}`),
      onState: r.onState,
    });
    await expect.poll(() => events.length).toBe(5);
    expect(events).toEqual(["message 10", "read 7 10 0", "message 11", "read 8 99 2", "message 12"]);
    expect(sinces).toEqual(["", "11"]);
    expect(sub.position).toBe("12");
    sub.close();
  });

  it("closes with handler-error when onRead throws, keeping the position of the last message", async () => {
    const { client } = scriptedDirect(async function* (_n, since, signal) {
      yield { frame: { case: "ready", value: { position: since || "0" } } };
      yield dm("10");
      yield readRoom("7", "10", 0);
      yield dm("11");
      await untilAborted(signal);
    });
    const r = recorder();
    const sub = client.subscribeDirectMessages({
      onMessage: r.onMessage,
      onRead: () => {
        throw new Error("app bug");
      },
      onState: r.onState,
    });
    await r.until((s) => s.status === "closed");
    expect(sub.state).toMatchObject({ status: "closed", reason: "handler-error", error: new Error("app bug") });
    expect(r.seen).toEqual(["10"]);
    expect(sub.position).toBe("10");
  });

  it("ignores read frames without onRead", async () => {
    const { client } = scriptedDirect(async function* (_n, since, signal) {
      yield { frame: { case: "ready", value: { position: since || "0" } } };
      yield readRoom("7", "10", 0);
      yield dm("10");
      await untilAborted(signal);
    });
    const r = recorder();
    const sub = client.subscribeDirectMessages({ onMessage: r.onMessage, onState: r.onState });
    await expect.poll(() => r.seen).toEqual(["10"]);
    expect(sub.state.status).toBe("live");
    sub.close();
  });
});

describe("backoffDelay", () => {
  it("grows exponentially, is capped, and is jittered in [d/2, d)", () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(125);
    expect(backoffDelay(3, {}, () => 0.999)).toBeLessThan(2000);
    expect(backoffDelay(50, { maxMs: 5000 }, () => 0)).toBe(2500);
    expect(backoffDelay(50, { maxMs: 5000 }, () => 1)).toBe(5000);
  });
});

describe("ids", () => {
  it("compare as 64-bit numbers, not as text", () => {
    expect(compareIds("9", "10")).toBeLessThan(0);
    expect(compareIds("18446744073709551615", "18446744073709551614")).toBeGreaterThan(0);
    expect(compareIds("", "0")).toBeLessThan(0);
    expect(maxId("", "5")).toBe("5");
    expect(maxId("99", "100")).toBe("100");
  });
});
