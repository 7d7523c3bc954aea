/**
 * Streams on a log-first bus (Kafka): a node hands a message on before the store has it, so a
 * stream that starts from the store merges in what the node handed on lately
 * (src/realtime/recent-messages.ts, starting-point.ts). Each race below lost or reordered a
 * message without it.
 */
import { describe, expect, it } from "vitest";
import { Hub } from "../../src/realtime/hub.js";
import { RecentMessages } from "../../src/realtime/recent-messages.js";
import { subscribe, type Frame } from "../../src/realtime/subscription.js";
import { SnowflakeGenerator } from "../../src/domain/ids.js";
import type { ChatMessage, MessagePage } from "../../src/domain/model.js";
import { UnavailableError } from "../../src/domain/errors.js";

const ids = new SnowflakeGenerator(1);
const channel = { kind: "room", id: "1" } as const;
const limits = { replayLimit: 100, queueLimit: 50, heartbeatMs: 60_000 };

function message(text: string): ChatMessage {
  return { id: ids.next(), channel, senderId: "2", senderName: "b", text, createdAtMs: Date.now(), clientMessageId: "" };
}

function historyOf(stored: readonly ChatMessage[], onRead?: () => void) {
  return async (page: MessagePage) => {
    onRead?.();
    return stored
      .filter((m) => (!page.after || BigInt(m.id) > BigInt(page.after)) && (!page.before || BigInt(m.id) < BigInt(page.before)))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .slice(0, page.limit);
  };
}

async function take(stream: AsyncGenerator<Frame>, n: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) frames.push((await stream.next()).value as Frame);
  return frames;
}

const texts = (frames: Frame[]) => frames.flatMap((f) => (f.kind === "message" ? [f.message.text] : []));

describe("a stream on a log-first bus", () => {
  it("replays a message the node handed on before the stream registered and the store does not have yet", async () => {
    const hub = new Hub(new RecentMessages());
    const [m0, m1, m2] = [message("m0"), message("m1"), message("m2")];
    hub.dispatch({ type: "message", message: m1 });
    hub.dispatch({ type: "message", message: m2 });
    // The store has m0 and m2 (m1's node has not written it yet).
    const stream = subscribe(hub, limits, { channel, since: m0.id, history: historyOf([m0, m2]), signal: new AbortController().signal });
    expect(texts(await take(stream, 3))).toEqual(["m1", "m2"]);
    await stream.return(undefined);
  });

  it("waits for the node to hand on an earlier message before replaying a later one the store already has", async () => {
    /** Tells when a stream starts waiting for the node to catch up (so the test dispatches only then). */
    class Observed extends RecentMessages {
      readonly waiting: Promise<void>;
      #waited!: () => void;
      constructor() {
        super();
        this.waiting = new Promise((resolve) => (this.#waited = resolve));
      }
      override reached(...args: Parameters<RecentMessages["reached"]>): Promise<boolean> {
        const reached = super.reached(...args);
        this.#waited();
        return reached;
      }
    }
    const recent = new Observed();
    const hub = new Hub(recent);
    const [m0, m1, m2, m3] = [message("m0"), message("m1"), message("m2"), message("m3")];
    // The store has m2 (its node was quick), not m1; this node has handed on neither yet.
    const stream = subscribe(hub, limits, { channel, since: m0.id, history: historyOf([m0, m2]), signal: new AbortController().signal });
    const first = take(stream, 4);
    await recent.waiting;
    for (const m of [m1, m2, m3]) hub.dispatch({ type: "message", message: m });
    expect(texts(await first)).toEqual(["m1", "m2", "m3"]);
    await stream.return(undefined);
  });

  it("refuses to start (UNAVAILABLE) when the node does not catch up with the store", async () => {
    const hub = new Hub(new RecentMessages(60_000));
    const [m0, m1] = [message("m0"), message("m1")];
    const stream = subscribe(hub, limits, { channel, since: m0.id, history: historyOf([m0, m1]), signal: new AbortController().signal });
    await expect(stream.next()).rejects.toBeInstanceOf(UnavailableError);
  }, 10_000);

  it("starts a new stream after the newest message the node handed on, even if the store has not got it", async () => {
    const hub = new Hub(new RecentMessages());
    const [m0, m1, m2] = [message("m0"), message("m1"), message("m2")];
    hub.dispatch({ type: "message", message: m1 });
    const stream = subscribe(hub, limits, { channel, since: undefined, history: historyOf([m0]), signal: new AbortController().signal });
    const ready = take(stream, 1);
    expect(await ready).toEqual([{ kind: "ready", position: m1.id, heartbeatMs: expect.any(Number) }]);
    hub.dispatch({ type: "message", message: m2 });
    expect(texts(await take(stream, 1))).toEqual(["m2"]);
    await stream.return(undefined);
  });

  it("forgets a channel's messages after the window, and an old id counts as handed on", async () => {
    let now = 1_000_000;
    const recent = new RecentMessages(1000, () => now);
    const m = message("m");
    recent.add(m);
    expect(recent.after(channel, "0")).toEqual([m]);
    now += 1001;
    recent.add(message("n"));
    expect(recent.after(channel, "0").map((x) => x.text)).toEqual(["n"]);
    // An id from well before the window: handed on long ago (or the node is too far behind to tell).
    expect(await recent.reached({ kind: "room", id: "9" }, ids.next(), 10)).toBe(false);
  });
});
