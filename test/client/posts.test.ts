/**
 * Sends under a cut connection: connections cut every 150 ms and, over HTTP/1.1, answers dropped
 * after the server stored the post. Every send is retried with its own key until it is answered,
 * and the server stores each exactly once.
 */
import { createParleyClient, type Message, type NodeProtocol, type ParleyClient } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedMessages } from "./support/checker.js";
import { type Harness, startHarness } from "./support/harness.js";

const LANES = 4;
const PER_LANE = 25;

/** Sends LANES × PER_LANE messages, each lane one after another; counts the retries. */
async function sendAll(send: (text: string, onRetry: () => void) => Promise<Message>): Promise<{ answers: Map<string, Message>; retries: number }> {
  const answers = new Map<string, Message>();
  let retries = 0;
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      for (let i = 0; i < PER_LANE; i++) {
        const text = `lane ${lane} message ${i}`;
        answers.set(text, await send(text, () => retries++));
      }
    }),
  );
  return { answers, retries };
}

/** Every text stored once, and each answer is the stored message. */
function expectOnce(stored: Message[], answers: Map<string, Message>): void {
  const texts = stored.map((m) => m.text);
  expect(new Set(texts).size, "a text stored twice").toBe(texts.length);
  expect(texts.sort()).toEqual([...answers.keys()].sort());
  for (const m of stored) expect(answers.get(m.text)?.messageId).toBe(m.messageId);
}

describe("sends under a cut connection: each stored exactly once", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  /** A client through the proxy, retrying quickly with a short deadline per attempt. */
  const through = (transport: NodeProtocol, token: string): ParleyClient =>
    createParleyClient({ baseUrl: h.proxy.url, transport, token, callTimeoutMs: 2_000, backoff: { initialMs: 20, maxMs: 300 } });

  for (const transport of ["connect", "grpc"] as const) {
    it(`posts to a room over ${transport}`, async () => {
      const { token } = await h.newUser(`post_${transport}`);
      const client = through(transport, token);
      const room = await client.createRoom(`sends ${transport} ${Date.now()}`);
      // HTTP/1.1: the answer to a post starts its chunk; drop some after the server stored the post.
      const before = h.proxy.droppedAnswers();
      if (transport === "connect") h.proxy.dropAnswers(8, (chunk) => chunk.toString("latin1", 0, 12) === "HTTP/1.1 200");
      const cutter = setInterval(() => h.proxy.cut(), 150);
      try {
        const { answers, retries } = await sendAll((text, onRetry) => client.post(room.roomId, text, { maxAttempts: Infinity, onRetry }));
        clearInterval(cutter);
        expect(retries).toBeGreaterThan(0);
        if (transport === "connect") expect(h.proxy.droppedAnswers() - before).toBe(8);
        expectOnce(await storedMessages(h.direct(token), room.roomId), answers);
        console.info(`${transport}: ${answers.size} posts, ${retries} retries, ${h.proxy.droppedAnswers() - before} answers lost, each stored once`);
      } finally {
        clearInterval(cutter);
        h.proxy.dropAnswers(0, () => false);
        client.close();
      }
    }, 120_000);
  }

  it("sends direct messages over gRPC", async () => {
    const sender = await h.newUser("dm_sender");
    const recipient = await h.newUser("dm_to");
    const client = through("grpc", sender.token);
    const cutter = setInterval(() => h.proxy.cut(), 150);
    try {
      const { answers, retries } = await sendAll((text, onRetry) => client.sendDirect({ username: recipient.username }, text, { maxAttempts: Infinity, onRetry }));
      clearInterval(cutter);
      expect(retries).toBeGreaterThan(0);
      const inbox = await h.direct(recipient.token).listDirectMessages({ pageSize: 1000 });
      expectOnce(inbox, answers);
    } finally {
      clearInterval(cutter);
      client.close();
    }
  }, 120_000);
});
