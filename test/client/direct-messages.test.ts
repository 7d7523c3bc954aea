/**
 * subscribeDirectMessages keeps the same promise as a room: every direct message sent to me once,
 * in order, through cuts and a gap paged from my inbox — and hands my read states, marked in
 * another session, to onRead without moving its position.
 */
import { createParleyClient, type Message, type ReadState } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check } from "./support/checker.js";
import { type Harness, PASSWORD, SUITE_CLIENT, startHarness } from "./support/harness.js";

describe("a direct-message subscription", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ REPLAY_LIMIT: "10" });
  });
  afterAll(async () => h?.close());

  it("delivers every DM once, in order, through cuts and a gap", async () => {
    const me = await h.newUser("dm_reader");
    const senders = await Promise.all([h.newUser("dm_a"), h.newUser("dm_b")]);
    const client = createParleyClient({ baseUrl: h.proxy.url, transport: "grpc", token: me.token, ...SUITE_CLIENT });
    const seen: string[] = [];
    let from = "";
    let gaps = 0;
    const live = new Promise<void>((resolve) => {
      client.subscribeDirectMessages({
        onMessage: (m) => void seen.push(m.messageId),
        onGap: () => void gaps++,
        onState: (s) => {
          if (s.status === "live" && from === "") {
            from = s.position;
            resolve();
          }
        },
      });
    });
    await live;
    const acked: string[] = [];
    const send = async (count: number, label: string): Promise<void> => {
      await Promise.all(
        senders.map(async (sender, n) => {
          const them = h.direct(sender.token);
          for (let i = 0; i < count; i++) acked.push((await them.sendDirect({ username: me.username }, `${label} ${n}.${i}`, { maxAttempts: Infinity })).messageId);
        }),
      );
    };
    await send(10, "live");
    h.proxy.cut();
    await send(5, "after a cut");
    h.proxy.refuse();
    await send(20, "while refused"); // 40 > REPLAY_LIMIT: a gap
    h.proxy.accept();
    await send(5, "after");
    await expect.poll(() => seen.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(acked.length);
    const inbox: Message[] = await h.direct(me.token).listDirectMessages({ pageSize: 1000 });
    const stored = inbox.map((m) => m.messageId).reverse();
    expect(check({ seen, acked, stored, from })).toEqual([]);
    expect(gaps).toBeGreaterThan(0);
    client.close();
  }, 60_000);

  it("hands a mark made in my other session to onRead, and keeps its position at my last message", async () => {
    const me = await h.newUser("dm_marker");
    const sender = await h.newUser("dm_c");
    // Two sessions of mine: the one that marks, and a second sign-in that subscribes.
    const marking = h.direct(me.token);
    const { accessToken } = await h.direct().signIn(me.username, PASSWORD);
    const watching = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token: accessToken, ...SUITE_CLIENT });
    const reads: ReadState[] = [];
    let live!: () => void;
    const isLive = new Promise<void>((resolve) => (live = resolve));
    const sub = watching.subscribeDirectMessages({
      onMessage: () => undefined,
      onRead: (state) => void reads.push(state),
      onState: (s) => s.status === "live" && live(),
    });
    await isLive;
    const sent = await h.direct(sender.token).sendDirect({ username: me.username }, "read me");
    await expect.poll(() => sub.position).toBe(sent.messageId);
    const marked = await marking.markDirectMessagesRead(sent.sender!.userId, sent.messageId);
    await expect.poll(() => reads.length).toBe(1);
    expect(reads[0]).toEqual(marked);
    expect(reads[0]).toMatchObject({ channel: { case: "withUserId", value: sent.sender!.userId }, lastReadMessageId: sent.messageId, unreadCount: 0 });
    expect(sub.position).toBe(sent.messageId);
    watching.close();
  }, 60_000);
});
