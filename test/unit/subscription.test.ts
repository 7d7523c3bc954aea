/** The subscription algorithm against the hub, with the store's history as a plain function. */
import { describe, expect, it } from "vitest";
import { Hub } from "../../src/realtime/hub.js";
import { subscribe, type Frame } from "../../src/realtime/subscription.js";
import { SnowflakeGenerator } from "../../src/domain/ids.js";
import type { ChatMessage, MessagePage } from "../../src/domain/model.js";
import { ResourceExhaustedError } from "../../src/domain/errors.js";

const ids = new SnowflakeGenerator(1);
const channel = { kind: "room", id: "1" } as const;
const limits = { replayLimit: 100, queueLimit: 5, heartbeatMs: 60_000 };

function message(text: string): ChatMessage {
  return { id: ids.next(), channel, senderId: "2", senderName: "b", text, createdAtMs: Date.now(), clientMessageId: "" };
}

/** History newest first, strictly between cursors, like the store. */
function historyOf(stored: ChatMessage[]) {
  return async (page: MessagePage) =>
    stored
      .filter((m) => (!page.after || BigInt(m.id) > BigInt(page.after)) && (!page.before || BigInt(m.id) < BigInt(page.before)))
      .reverse()
      .slice(0, page.limit);
}

async function take(gen: AsyncGenerator<Frame>, n: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const next = await gen.next();
    if (next.done) break;
    frames.push(next.value);
  }
  return frames;
}

const texts = (frames: Frame[]) => frames.flatMap((f) => (f.kind === "message" ? [f.message.text] : []));

describe("subscribe", () => {
  it("delivers a message published while the replay is being read exactly once", async () => {
    const hub = new Hub();
    const stored = [message("m0"), message("m1"), message("m2")];
    const history = historyOf(stored);
    let raced = false;
    // The store read is where the race lives: a post lands (stored + published) mid-read.
    const racingHistory = async (page: MessagePage) => {
      if (!raced) {
        raced = true;
        const late = message("m3");
        stored.push(late);
        hub.dispatch({ type: "message", message: late });
      }
      return history(page);
    };
    const gen = subscribe(hub, limits, { channel, since: stored[0]!.id, history: racingHistory, signal: new AbortController().signal });
    const frames = await take(gen, 4);
    const later = message("m4");
    stored.push(later);
    hub.dispatch({ type: "message", message: later });
    frames.push(...(await take(gen, 1)));
    expect(frames[0]).toEqual({ kind: "ready", position: stored[0]!.id, heartbeatMs: expect.any(Number) });
    expect(texts(frames)).toEqual(["m1", "m2", "m3", "m4"]);
    await gen.return(undefined);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("ends with RESOURCE_EXHAUSTED when the client does not keep up", async () => {
    const hub = new Hub();
    const gen = subscribe(hub, limits, { channel, since: undefined, history: historyOf([]), signal: new AbortController().signal });
    await take(gen, 1);
    for (let i = 0; i < 10; i++) hub.dispatch({ type: "message", message: message(`x${i}`) });
    const error = await take(gen, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("stops on abort and unsubscribes", async () => {
    const hub = new Hub();
    const controller = new AbortController();
    const gen = subscribe(hub, limits, { channel, since: undefined, history: historyOf([]), signal: controller.signal });
    await take(gen, 1);
    expect(hub.subscriberCount(channel)).toBe(1);
    const pending = gen.next();
    controller.abort();
    expect((await pending).done).toBe(true);
    expect(hub.subscriberCount(channel)).toBe(0);
  });

  it("sends heartbeats when idle", async () => {
    const hub = new Hub();
    const gen = subscribe(hub, { ...limits, heartbeatMs: 20 }, { channel, since: undefined, history: historyOf([]), signal: new AbortController().signal });
    const frames = await take(gen, 3);
    expect(frames.map((f) => f.kind)).toEqual(["ready", "heartbeat", "heartbeat"]);
    await gen.return(undefined);
  });
});
