/**
 * subscribeDirectMessages keeps the same promise as a room: every direct message sent to me once,
 * in order, through cuts and a gap paged from my inbox.
 */
import { createParleyClient, type Message } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check } from "./support/checker.js";
import { type Harness, SUITE_CLIENT, startHarness } from "./support/harness.js";

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
});
