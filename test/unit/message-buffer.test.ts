/**
 * MessageBuffer (the base of every live stream) on its own: arrival order, each message once, the
 * bound counted on unread messages only, the overflow mark, compaction after a long read, and what
 * it lets go — read and cleared messages are not kept alive by the buffer (checked with WeakRefs
 * and a forced garbage collection: a stream is long-lived and thousands of them idle at once).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/domain/model.js";
import { MessageBuffer } from "../../src/realtime/message-buffer.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** MessageBuffer's protected API, opened for the test. */
class Probe extends MessageBuffer {
  put(message: ChatMessage, limit = 1_000_000): boolean {
    return this.enqueue(message, limit);
  }
  take(): ChatMessage | undefined {
    return this.shift();
  }
  clear(): void {
    this.clearBuffer();
  }
  get full(): boolean {
    return this.overflowed;
  }
  get waiting(): boolean {
    return this.hasBuffered;
  }
}

const channel = { kind: "room", id: "1" } as const;
const message = (n: number): ChatMessage => ({ id: String(1000 + n), channel, senderId: "2", senderName: "b", text: "t", createdAtMs: 0, clientMessageId: "" });

/** Puts `count` fresh messages in and returns WeakRefs to them (the test keeps no strong reference). */
function fill(buffer: Probe, count: number, from = 0): WeakRef<ChatMessage>[] {
  const refs: WeakRef<ChatMessage>[] = [];
  for (let n = from; n < from + count; n++) {
    const m = message(n);
    refs.push(new WeakRef(m));
    expect(buffer.put(m)).toBe(true);
  }
  return refs;
}

/** Reads `count` messages and checks their ids follow on from `from`, keeping none. */
function drain(buffer: Probe, count: number, from = 0): void {
  for (let n = from; n < from + count; n++) expect(buffer.take()?.id).toBe(String(1000 + n));
}

/** Collects garbage once WeakRefs made in this job may be cleared (they live until the job ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

describe("MessageBuffer", () => {
  it("hands messages out in arrival order, each once, then nothing", () => {
    const buffer = new Probe();
    expect(buffer.waiting).toBe(false);
    expect(buffer.take()).toBeUndefined();
    fill(buffer, 3);
    expect(buffer.waiting).toBe(true);
    drain(buffer, 2);
    expect(buffer.waiting).toBe(true);
    fill(buffer, 2, 3);
    drain(buffer, 3, 2);
    expect(buffer.waiting).toBe(false);
    expect(buffer.take()).toBeUndefined();
    fill(buffer, 1, 5);
    drain(buffer, 1, 5);
  });

  it("takes up to `limit` unread messages, then refuses, marks itself overflowed and stays so", () => {
    const buffer = new Probe();
    expect([1, 2, 3].map((n) => buffer.put(message(n), 3))).toEqual([true, true, true]);
    expect(buffer.full).toBe(false);
    expect(buffer.put(message(4), 3)).toBe(false);
    expect(buffer.full).toBe(true);
    drain(buffer, 3, 1);
    expect(buffer.take()).toBeUndefined();
    expect(buffer.full).toBe(true);
  });

  it("counts only unread messages against the limit", () => {
    const buffer = new Probe();
    expect(buffer.put(message(1), 2)).toBe(true);
    expect(buffer.put(message(2), 2)).toBe(true);
    drain(buffer, 1, 1);
    expect(buffer.put(message(3), 2)).toBe(true);
    expect(buffer.full).toBe(false);
    expect(buffer.put(message(4), 2)).toBe(false);
  });

  it("keeps order across the compaction of a long read", () => {
    const buffer = new Probe();
    fill(buffer, 3000);
    drain(buffer, 2100);
    fill(buffer, 500, 3000);
    drain(buffer, 1400, 2100);
    expect(buffer.take()).toBeUndefined();
  });

  it("keeps no read message once drained", async () => {
    const buffer = new Probe();
    const refs = fill(buffer, 10);
    drain(buffer, 10);
    await collect();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it("lets go of read messages during a long read once more than half of what it holds is read", async () => {
    const buffer = new Probe();
    const refs = fill(buffer, 3000);
    drain(buffer, 2100);
    await collect();
    expect(refs[0]!.deref()).toBeUndefined();
    expect(refs[1500]!.deref()).toBeUndefined();
    expect(refs[2999]!.deref()).toBeDefined();
    drain(buffer, 900, 2100);
  });

  it("clearBuffer drops every unread message (and keeps the overflow mark)", async () => {
    const buffer = new Probe();
    const refs = fill(buffer, 5);
    expect(buffer.put(message(99), 5)).toBe(false);
    buffer.clear();
    expect(buffer.waiting).toBe(false);
    expect(buffer.take()).toBeUndefined();
    expect(buffer.full).toBe(true);
    await collect();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
