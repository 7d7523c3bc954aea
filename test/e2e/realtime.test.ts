/**
 * Realtime semantics: delivery once and in order, Ready, gap, heartbeat. Resume with `since` and
 * sign-out ending streams run under each worker count in worker-counts.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
});
