/** Realtime semantics: delivery once and in order, resume without gap or duplicate, gap, heartbeat, sign-out. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";
import { collect } from "../support/frames.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { HEARTBEAT_SECONDS: "1", REPLAY_LIMIT: "20" } });
});
afterAll(async () => {
  await server.stop();
});

describe("subscriptions", () => {
  it("delivers B's room post and DM to A once each, in order", async () => {
    const a = await newUser(server.url, "grpc");
    const b = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("live") });
    const controller = new AbortController();
    const roomStream = a.clients.messages.subscribeRoom({ roomId: room!.roomId }, { signal: controller.signal })[Symbol.asyncIterator]();
    const dmStream = a.clients.messages.subscribeDirectMessages({}, { signal: controller.signal })[Symbol.asyncIterator]();
    await collect(roomStream, (c) => c.cases.includes("ready"));
    await collect(dmStream, (c) => c.cases.includes("ready"));
    for (let i = 0; i < 10; i++) await b.clients.messages.postMessage({ roomId: room!.roomId, text: `r${i}` });
    for (let i = 0; i < 5; i++) {
      await b.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: a.user.userId }, text: `d${i}` });
    }
    const roomGot = await collect(roomStream, (c) => c.texts.length >= 10);
    const dmGot = await collect(dmStream, (c) => c.texts.length >= 5);
    expect(roomGot.texts).toEqual([...Array(10).keys()].map((i) => `r${i}`));
    expect(dmGot.texts).toEqual([...Array(5).keys()].map((i) => `d${i}`));
    // Nothing more arrives: a heartbeat comes next, not a duplicate.
    const after = await collect(roomStream, (c) => c.cases.includes("heartbeat"), 5000);
    expect(after.texts).toEqual([]);
    controller.abort();
  });

  it("starts with Ready carrying the newest id, even in an empty room", async () => {
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("empty") });
    const controller = new AbortController();
    const it1 = a.clients.messages.subscribeRoom({ roomId: room!.roomId }, { signal: controller.signal })[Symbol.asyncIterator]();
    const first = await it1.next();
    expect(first.value?.frame).toEqual({ case: "ready", value: expect.objectContaining({ position: "0" }) });
    const posted = await a.clients.messages.postMessage({ roomId: room!.roomId, text: "one" });
    const it2 = a.clients.messages.subscribeRoom({ roomId: room!.roomId }, { signal: controller.signal })[Symbol.asyncIterator]();
    const second = await it2.next();
    expect(second.value?.frame).toEqual({ case: "ready", value: expect.objectContaining({ position: posted.message!.messageId }) });
    controller.abort();
  });

  it("resumes with since: replay then live with no gap and no duplicate while others post", async () => {
    const a = await newUser(server.url);
    const b = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("resume") });
    const roomId = room!.roomId;
    const first = await b.clients.messages.postMessage({ roomId, text: "m0" });
    for (let i = 1; i < 10; i++) await b.clients.messages.postMessage({ roomId, text: `m${i}` });
    // A poster keeps posting while A resumes from m0.
    let posting = true;
    let n = 10;
    let underway!: () => void;
    const posterUnderway = new Promise<void>((resolve) => (underway = resolve));
    const poster = (async () => {
      while (posting) {
        await b.clients.messages.postMessage({ roomId, text: `m${n++}` });
        if (n === 13) underway();
      }
    })();
    // Subscribe only once the poster is posting, so posts land while the replay is read and the stream goes live.
    await posterUnderway;
    const subscribedAt = n;
    const controller = new AbortController();
    const stream = a.clients.messages.subscribeRoom({ roomId, since: first.message!.messageId }, { signal: controller.signal });
    const last = (c: { texts: string[] }) => Number(c.texts.at(-1)?.slice(1) ?? -1);
    // Read until the stream carries messages posted well after the subscription began (the live side of the race).
    const got = await collect(stream[Symbol.asyncIterator](), (c) => c.texts.length >= 40 && last(c) >= subscribedAt + 10, 20_000);
    posting = false;
    await poster;
    controller.abort();
    expect(got.cases[0]).toBe("ready");
    // Past the replay limit the server sends a Gap; the client pages those with List.
    let texts = got.texts;
    if (got.cases[1] === "gap") {
      const skipped = await a.clients.messages.listMessages({ roomId, after: first.message!.messageId, before: got.ids[0], pageSize: 1000 });
      texts = [...skipped.messages.map((m) => m.text).reverse(), ...texts];
    }
    const expected = [...Array(texts.length).keys()].map((i) => `m${i + 1}`);
    expect(texts).toEqual(expected);
    expect(new Set(got.ids).size).toBe(got.ids.length);
    // Both sides of the race were exercised: messages from before the subscription and from after it.
    expect(texts).toContain(`m${subscribedAt - 1}`);
    expect(last(got)).toBeGreaterThanOrEqual(subscribedAt + 10);
  });

  it("sends a Gap when the replay is longer than the limit", async () => {
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("gap") });
    const first = await a.clients.messages.postMessage({ roomId: room!.roomId, text: "m0" });
    for (let i = 1; i <= 30; i++) await a.clients.messages.postMessage({ roomId: room!.roomId, text: `m${i}` });
    const controller = new AbortController();
    const it = a.clients.messages.subscribeRoom({ roomId: room!.roomId, since: first.message!.messageId }, { signal: controller.signal })[Symbol.asyncIterator]();
    const got = await collect(it, (c) => c.texts.length >= 20);
    controller.abort();
    expect(got.cases.slice(0, 2)).toEqual(["ready", "gap"]);
    // The newest 20 are replayed; m1..m10 are named by the gap, to be paged with List.
    expect(got.texts).toEqual([...Array(20).keys()].map((i) => `m${i + 11}`));
    const skipped = await a.clients.messages.listMessages({ roomId: room!.roomId, after: first.message!.messageId, before: got.ids[0] });
    expect(skipped.messages.map((m) => m.text).reverse()).toEqual([...Array(10).keys()].map((i) => `m${i + 1}`));
  });

  it("ends a token's open streams with UNAUTHENTICATED when it signs out", async () => {
    const a = await newUser(server.url, "grpc");
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("bye") });
    const it = a.clients.messages.subscribeRoom({ roomId: room!.roomId })[Symbol.asyncIterator]();
    const dms = a.clients.messages.subscribeDirectMessages({})[Symbol.asyncIterator]();
    await it.next();
    await dms.next();
    await a.clients.auth.signOut({});
    await expect(collect(it, () => false)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(collect(dms, () => false)).rejects.toMatchObject({ code: Code.Unauthenticated });
  });
});
