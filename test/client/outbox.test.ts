/**
 * The outbox: sends made while the server cannot be reached are kept, in order, and sent when it
 * answers again — once each, also when the app restarts with the queue in its storage.
 */
import { Code, ConnectError, createParleyClient, type OutboxItem, type OutboxStorage } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedMessages } from "./support/checker.js";
import { type Harness, SUITE_CLIENT, startHarness } from "./support/harness.js";

/** Storage as a page's localStorage or a service's file would keep it: serialised. */
function memoryStorage(): OutboxStorage & { items(): OutboxItem[] } {
  let saved = "[]";
  return {
    load: () => JSON.parse(saved) as OutboxItem[],
    save: (items) => void (saved = JSON.stringify(items)),
    items: () => JSON.parse(saved) as OutboxItem[],
  };
}

describe("the outbox", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it("keeps sends made while refused and sends them in order once the server answers", async () => {
    const { token } = await h.newUser("outbox");
    const client = createParleyClient({ baseUrl: h.proxy.url, transport: "grpc", token, ...SUITE_CLIENT });
    const room = await client.createRoom(`outbox ${Date.now()}`);
    const sub = client.subscribeRoom(room.roomId, { onMessage: () => {} });
    h.proxy.refuse();
    const storage = memoryStorage();
    const outbox = client.outbox({ storage });
    const texts = Array.from({ length: 12 }, (_, i) => `queued ${i}`);
    const sent = texts.map((text) => outbox.post(room.roomId, text));
    expect(storage.items().map((i) => i.text)).toEqual(texts);
    h.proxy.accept();
    const messages = await Promise.all(sent);
    expect(outbox.pending).toEqual([]);
    expect(storage.items()).toEqual([]);
    const stored = await storedMessages(client, room.roomId);
    expect(stored.map((m) => m.text)).toEqual(texts);
    expect(stored.map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
    sub.close();
    client.close();
  }, 60_000);

  it("sends what a closed app left in its storage, with the same keys: stored once even when the first answer was lost", async () => {
    const { token } = await h.newUser("outbox_restart");
    const storage = memoryStorage();
    const first = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token, ...SUITE_CLIENT });
    const room = await first.createRoom(`outbox restart ${Date.now()}`);
    // The first answer is lost after the server stored the post; from then on nothing gets through.
    const cutOff = new Promise<void>((resolve) =>
      h.proxy.dropAnswers(1, (chunk) => chunk.toString("latin1", 0, 12) === "HTTP/1.1 200", () => {
        h.proxy.refuse();
        resolve();
      }),
    );
    const outbox = first.outbox({ storage });
    const sends = ["answer lost", "second", "third"].map((text) => outbox.post(room.roomId, text));
    await cutOff;
    first.close();
    for (const result of await Promise.allSettled(sends)) expect(result).toMatchObject({ status: "rejected", reason: { code: Code.Canceled } });
    expect(storage.items().map((i) => i.text)).toEqual(["answer lost", "second", "third"]);

    // The app starts again with the same storage.
    h.proxy.accept();
    const second = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token, ...SUITE_CLIENT });
    const sent: string[] = [];
    await new Promise<void>((resolve) => {
      second.outbox({
        storage,
        onSent: (item) => {
          sent.push(item.text);
          if (sent.length === 3) resolve();
        },
      });
    });
    expect(sent).toEqual(["answer lost", "second", "third"]);
    expect((await storedMessages(second, room.roomId)).map((m) => m.text)).toEqual(["answer lost", "second", "third"]);
    second.close();
  }, 60_000);

  it("drops a send the server refuses for good and goes on with the next", async () => {
    const { token } = await h.newUser("outbox_refused");
    const client = createParleyClient({ baseUrl: h.server.url, transport: "connect", token, ...SUITE_CLIENT });
    const room = await client.createRoom(`outbox refused ${Date.now()}`);
    const failed: ConnectError[] = [];
    const outbox = client.outbox({ onFailed: (_, error) => failed.push(error) });
    const missing = outbox.post("9000000000000000000", "to nowhere");
    const next = outbox.post(room.roomId, "still sent");
    await expect(missing).rejects.toMatchObject({ code: Code.NotFound });
    expect((await next).text).toBe("still sent");
    expect(failed.map((e) => e.code)).toEqual([Code.NotFound]);
    client.close();
  }, 30_000);
});
