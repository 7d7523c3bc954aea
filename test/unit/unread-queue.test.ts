/**
 * UnreadQueue (the unread messages of a live stream) on its own: arrival order, each message once,
 * the bound counted on unread messages only, the overflow mark, compaction after a long read, and
 * what it lets go — read and cleared messages are not kept alive by the queue (checked with
 * WeakRefs and a forced garbage collection: a stream is long-lived and thousands of them idle at once).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/domain/model.js";
import { UnreadQueue } from "../../src/realtime/unread-queue.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const channel = { kind: "room", id: "1" } as const;
const message = (n: number): ChatMessage => ({ id: String(1000 + n), channel, senderId: "2", senderName: "b", text: "t", createdAtMs: 0, clientMessageId: "" });

/** Puts `count` fresh messages in and returns WeakRefs to them (the test keeps no strong reference). */
function fill(queue: UnreadQueue<ChatMessage>, count: number, from = 0): WeakRef<ChatMessage>[] {
  const refs: WeakRef<ChatMessage>[] = [];
  for (let n = from; n < from + count; n++) {
    const m = message(n);
    refs.push(new WeakRef(m));
    expect(queue.enqueue(m, 1_000_000)).toBe(true);
  }
  return refs;
}

/** Reads `count` messages and checks their ids follow on from `from`, keeping none. */
function drain(queue: UnreadQueue<ChatMessage>, count: number, from = 0): void {
  for (let n = from; n < from + count; n++) expect(queue.shift()?.id).toBe(String(1000 + n));
}

/** Collects garbage once WeakRefs made in this job may be cleared (they live until the job ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

describe("UnreadQueue", () => {
  it("hands messages out in arrival order, each once, then nothing", () => {
    const queue = new UnreadQueue<ChatMessage>();
    expect(queue.hasUnread).toBe(false);
    expect(queue.shift()).toBeUndefined();
    fill(queue, 3);
    expect(queue.hasUnread).toBe(true);
    drain(queue, 2);
    expect(queue.hasUnread).toBe(true);
    fill(queue, 2, 3);
    drain(queue, 3, 2);
    expect(queue.hasUnread).toBe(false);
    expect(queue.shift()).toBeUndefined();
    fill(queue, 1, 5);
    drain(queue, 1, 5);
  });

  it("takes up to `limit` unread messages, then refuses, marks itself overflowed and stays so", () => {
    const queue = new UnreadQueue<ChatMessage>();
    expect([1, 2, 3].map((n) => queue.enqueue(message(n), 3))).toEqual([true, true, true]);
    expect(queue.overflowed).toBe(false);
    expect(queue.enqueue(message(4), 3)).toBe(false);
    expect(queue.overflowed).toBe(true);
    drain(queue, 3, 1);
    expect(queue.shift()).toBeUndefined();
    expect(queue.overflowed).toBe(true);
  });

  it("with a limit of one, takes one message and refuses the next", () => {
    const queue = new UnreadQueue<ChatMessage>();
    expect(queue.enqueue(message(1), 1)).toBe(true);
    expect(queue.enqueue(message(2), 1)).toBe(false);
    expect(queue.overflowed).toBe(true);
    drain(queue, 1, 1);
  });

  it("counts only unread messages against the limit", () => {
    const queue = new UnreadQueue<ChatMessage>();
    expect(queue.enqueue(message(1), 2)).toBe(true);
    expect(queue.enqueue(message(2), 2)).toBe(true);
    drain(queue, 1, 1);
    expect(queue.enqueue(message(3), 2)).toBe(true);
    expect(queue.overflowed).toBe(false);
    expect(queue.enqueue(message(4), 2)).toBe(false);
  });

  it("keeps order across the compaction of a long read", () => {
    const queue = new UnreadQueue<ChatMessage>();
    fill(queue, 3000);
    drain(queue, 2100);
    fill(queue, 500, 3000);
    drain(queue, 1400, 2100);
    expect(queue.shift()).toBeUndefined();
  });

  it("keeps no read message once drained", async () => {
    const queue = new UnreadQueue<ChatMessage>();
    const refs = fill(queue, 10);
    drain(queue, 10);
    await collect();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it("lets go of read messages during a long read once more than half of what it holds is read", async () => {
    const queue = new UnreadQueue<ChatMessage>();
    const refs = fill(queue, 3000);
    drain(queue, 2100);
    await collect();
    expect(refs[0]!.deref()).toBeUndefined();
    expect(refs[1500]!.deref()).toBeUndefined();
    expect(refs[2999]!.deref()).toBeDefined();
    drain(queue, 900, 2100);
  });

  it("clear() drops every unread message (and keeps the overflow mark)", async () => {
    const queue = new UnreadQueue<ChatMessage>();
    const refs = fill(queue, 5);
    expect(queue.enqueue(message(99), 5)).toBe(false);
    queue.clear();
    expect(queue.hasUnread).toBe(false);
    expect(queue.shift()).toBeUndefined();
    expect(queue.overflowed).toBe(true);
    await collect();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
