/** The hand-written subscription iterator: hand-over after a burst, overflow, abort and return while a reader waits. */
import { describe, expect, it, vi } from "vitest";
import { Hub } from "../../src/realtime/hub.js";
import { Presence } from "../../src/realtime/presence.js";
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

describe("read frames on an inbox stream", () => {
  const inbox = { kind: "user", id: "2" } as const;
  const state = (lastReadMessageId: string) => ({ channel: { kind: "room", id: "9" } as const, lastReadMessageId, unreadCount: 0, moreUnread: false });
  const dm = (id: string): ChatMessage => ({ id, channel: inbox, senderId: "3", senderName: "c", text: "t", createdAtMs: 0, clientMessageId: "" });

  async function inboxStream(since?: string, history: ChatMessage[] = [], queueLimit = limits.queueLimit) {
    const hub = new Hub();
    const stream = subscribe(hub, { ...limits, queueLimit }, { channel: inbox, since, history: async () => [...history].reverse(), signal: new AbortController().signal });
    return { hub, stream };
  }

  it("come after Ready and the replay, among the messages in dispatch order, and never move the position", async () => {
    const { hub, stream } = await inboxStream("100", [dm("101")], 10);
    const ready = stream.next();
    // Dispatched while the stream starts: held until Ready and the replay are sent.
    hub.dispatch({ type: "read", userId: "2", state: state("101") });
    expect((await ready).value).toMatchObject({ kind: "ready", position: "100" });
    expect((await stream.next()).value).toEqual({ kind: "message", message: dm("101") });
    expect((await stream.next()).value).toEqual({ kind: "read", state: state("101") });
    const waiting = stream.next();
    hub.dispatch({ type: "message", message: dm("102") });
    // A read state naming a newer message than the stream's messages: the next message still comes.
    hub.dispatch({ type: "read", userId: "2", state: state("999") });
    hub.dispatch({ type: "message", message: dm("103") });
    // The replayed message again, live: still dropped (the read frame did not reset the de-duplication).
    hub.dispatch({ type: "message", message: dm("101") });
    hub.dispatch({ type: "message", message: dm("104") });
    const got = [(await waiting).value, (await stream.next()).value, (await stream.next()).value, (await stream.next()).value];
    expect(got).toEqual([
      { kind: "message", message: dm("102") },
      { kind: "read", state: state("999") },
      { kind: "message", message: dm("103") },
      { kind: "message", message: dm("104") },
    ]);
    await stream.return(undefined);
  });

  it("reach only the streams of the user they are addressed to, never a room's", async () => {
    const mine = await inboxStream();
    const room = subscribe(mine.hub, limits, { channel: { kind: "room", id: "2" }, since: undefined, history: async () => [], signal: new AbortController().signal });
    const other = subscribe(mine.hub, limits, { channel: { kind: "user", id: "3" }, since: undefined, history: async () => [], signal: new AbortController().signal });
    for (const s of [mine.stream, room, other]) expect((await s.next()).value).toMatchObject({ kind: "ready" });
    const [a, b, c] = [mine.stream.next(), room.next(), other.next()];
    mine.hub.dispatch({ type: "read", userId: "2", state: state("5") });
    mine.hub.dispatch({ type: "message", message: { ...dm("6"), channel: { kind: "room", id: "2" } } });
    mine.hub.dispatch({ type: "message", message: { ...dm("7"), channel: { kind: "user", id: "3" } } });
    expect((await a).value).toEqual({ kind: "read", state: state("5") });
    expect((await b).value).toMatchObject({ kind: "message", message: { id: "6" } });
    expect((await c).value).toMatchObject({ kind: "message", message: { id: "7" } });
    expect(mine.hub.deliveries).toBe(2);
    for (const s of [mine.stream, room, other]) await s.return(undefined);
  });

  it("count toward the queue's bound like messages", async () => {
    const { hub, stream } = await inboxStream();
    await stream.next();
    const waiting = stream.next();
    for (let i = 0; i < limits.queueLimit + 1; i++) hub.dispatch({ type: "read", userId: "2", state: state(String(i + 1)) });
    await expect(waiting).rejects.toBeInstanceOf(ResourceExhaustedError);
  });
});

describe("typing frames", () => {
  const room = { kind: "room", id: "9" } as const;
  const typing = (typistId: string, untilMs = 6_000) => ({ channel: room, typistId, typistName: `u${typistId}`, untilMs, stopped: false });
  const post = (id: string): ChatMessage => ({ id, channel: room, senderId: "3", senderName: "c", text: "t", createdAtMs: 0, clientMessageId: "" });
  const roomStream = (hub: Hub, viewerId: string | undefined) =>
    subscribe(hub, { ...limits, queueLimit: 10 }, { channel: room, since: undefined, history: async () => [], signal: new AbortController().signal, viewer: viewerId === undefined ? undefined : { userId: viewerId, username: `u${viewerId}` } });

  it("reach the room's streams as one shared frame, among the messages, skipping the typist's own, never moving the position", async () => {
    const hub = new Hub();
    const [typists, others, anonymous] = [roomStream(hub, "1"), roomStream(hub, "2"), roomStream(hub, undefined)];
    for (const s of [typists, others, anonymous]) expect((await s.next()).value).toMatchObject({ kind: "ready", position: "0" });
    const waiting = [typists.next(), others.next(), anonymous.next()];
    hub.dispatch({ type: "typing", typing: typing("1") });
    hub.dispatch({ type: "message", message: post("5") });
    hub.dispatch({ type: "typing", typing: typing("1", 7_000) });
    hub.dispatch({ type: "message", message: post("6") });
    const [own, other, anon] = await Promise.all(waiting);
    expect(own!.value).toEqual({ kind: "message", message: post("5") });
    expect(other!.value).toEqual({ kind: "typing", typing: typing("1") });
    // One frame object for every stream it reaches: encodings are cached on it.
    expect(anon!.value).toBe(other!.value);
    expect((await typists.next()).value).toEqual({ kind: "message", message: post("6") });
    for (const s of [others, anonymous]) {
      expect((await s.next()).value).toEqual({ kind: "message", message: post("5") });
      expect((await s.next()).value).toEqual({ kind: "typing", typing: typing("1", 7_000) });
      expect((await s.next()).value).toEqual({ kind: "message", message: post("6") });
    }
    expect(hub.deliveries).toBe(6);
    for (const s of [typists, others, anonymous]) await s.return(undefined);
  });

  it("to a user's inbox reach their direct-message streams only", async () => {
    const hub = new Hub();
    const inbox = (id: string) => subscribe(hub, limits, { channel: { kind: "user", id }, since: undefined, history: async () => [], signal: new AbortController().signal, viewer: { userId: id, username: `u${id}` } });
    const [peer, typist, roomOnly] = [inbox("2"), inbox("1"), roomStream(hub, "3")];
    for (const s of [peer, typist, roomOnly]) await s.next();
    const waiting = [peer.next(), typist.next(), roomOnly.next()];
    const toPeer = { channel: { kind: "user", id: "2" } as const, typistId: "1", typistName: "u1", untilMs: 6_000, stopped: false };
    hub.dispatch({ type: "typing", typing: toPeer });
    hub.dispatch({ type: "message", message: { ...post("7"), channel: { kind: "user", id: "1" } } });
    hub.dispatch({ type: "message", message: post("8") });
    const [p, t, r] = await Promise.all(waiting);
    expect(p!.value).toEqual({ kind: "typing", typing: toPeer });
    expect(t!.value).toMatchObject({ kind: "message", message: { id: "7" } });
    expect(r!.value).toMatchObject({ kind: "message", message: { id: "8" } });
    for (const s of [peer, typist, roomOnly]) await s.return(undefined);
  });
});

describe("subscribe() and presence", () => {
  const viewer = { userId: "5", username: "eve" };
  const other = { userId: "6", username: "fay" };

  /** A hub with presence on a one-process bus that hands each report straight back; `other` is already present in the room. */
  function presenceHub() {
    const presence: Presence = new Presence({ origin: "a", nowMs: () => 0, publish: async (report) => presence.apply(report) });
    const hub = new Hub(undefined, presence);
    presence.enter(channel.id, other);
    presence.tick();
    return { hub, presence };
  }
  const request = (asked: boolean) => ({ channel, since: undefined, history: async () => [], signal: new AbortController().signal, viewer, presence: asked });

  it("a room stream that asked for presence yields Ready, then the snapshot of who is there", async () => {
    const { hub, presence } = presenceHub();
    const stream = subscribe(hub, limits, request(true));
    expect((await stream.next()).value).toEqual({ kind: "ready", position: "0", heartbeatMs: limits.heartbeatMs });
    expect((await stream.next()).value).toEqual({ kind: "presence", roomId: channel.id, count: 1, joined: [other], left: [], snapshot: true, truncated: false });
    // The viewer counts as present from the next report on.
    presence.tick();
    expect(presence.members(channel.id, 10)).toEqual([viewer, other]);
    await stream.return(undefined);
  });

  it("a room stream that did not ask yields no presence frame: Ready, then the next message", async () => {
    const { hub } = presenceHub();
    const stream = subscribe(hub, limits, request(false));
    expect((await stream.next()).value).toEqual({ kind: "ready", position: "0", heartbeatMs: limits.heartbeatMs });
    const m = message();
    hub.dispatch({ type: "message", message: m });
    expect((await stream.next()).value).toEqual({ kind: "message", message: m });
    await stream.return(undefined);
  });

  it("a stream ended before its first next() never entered, so it does not leave: the viewer's other stream still counts", async () => {
    const { hub, presence } = presenceHub();
    const open = subscribe(hub, limits, request(false));
    await open.next();
    presence.tick();
    expect(presence.count(channel.id)).toBe(2);
    const leave = vi.spyOn(presence, "leave");
    const never = subscribe(hub, limits, request(true));
    expect(await never.return(undefined)).toEqual({ done: true, value: undefined });
    expect(leave).not.toHaveBeenCalled();
    presence.tick();
    expect(presence.members(channel.id, 10)).toEqual([viewer, other]);
    await open.return(undefined);
  });

  it("a stream that ends leaves once, however often it is ended", async () => {
    const { hub, presence } = presenceHub();
    const stream = subscribe(hub, limits, request(true));
    await stream.next();
    presence.tick();
    expect(presence.count(channel.id)).toBe(2);
    const leave = vi.spyOn(presence, "leave");
    await stream.return(undefined);
    await stream.return(undefined);
    expect(leave.mock.calls).toEqual([[channel.id, viewer.userId]]);
    presence.tick();
    expect(presence.members(channel.id, 10)).toEqual([other]);
  });
});
