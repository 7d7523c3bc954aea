/**
 * The log names messages (src/bus/kafka/log-sequence.ts, log-reader.ts): every reader must compute
 * the same ids, in increasing order along a partition, from any bootstrap point it may start at,
 * and drop the same retries. Property tests over generated logs (seeded: FUZZ_SEED).
 */
import fc from "fast-check";
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { compareIds, idTimeMs } from "../../src/domain/ids.js";
import type { MessageDraft } from "../../src/bus/bus.js";
import { encodeRecord } from "../../src/bus/kafka/event-codec.js";
import { LogReader } from "../../src/bus/kafka/log-reader.js";
import { BLOCK, PartitionSequence, blockStart } from "../../src/bus/kafka/log-sequence.js";
import { busTopics } from "../../src/bus/kafka/topics.js";
import { fuzzSeed } from "../support/fuzz-seed.js";

const T0 = 1_790_000_000_000;
const draft = (i: number, key = ""): MessageDraft => ({
  channel: { kind: "room", id: "7" },
  senderId: "1",
  senderName: "ann",
  text: `m${i}`,
  clientMessageId: key,
});

/**
 * A log: per record, the ms step since the previous record (0 = same ms). At most `perMs` records
 * share one ms — the bound the id layout needs (4096); tests also go near it.
 */
function appendTimes(steps: readonly number[], perMs = 4096): number[] {
  const times: number[] = [];
  let t = T0;
  let run = 0;
  for (const step of steps) {
    if (step > 0 || run >= perMs) {
      t += Math.max(step, 1);
      run = 0;
    }
    run++;
    times.push(t);
  }
  return times;
}

/** ids of every record from `first` on, read by a sequence seeded at the record before `first`'s block. */
function idsFrom(times: readonly number[], base: bigint, first: number): string[] {
  const sequence = new PartitionSequence(3, 60_000);
  const seedAt = blockStart(base + BigInt(first)) - 1n;
  let start = 0;
  if (seedAt >= base) {
    sequence.seed(seedAt, times[Number(seedAt - base)]!);
    start = Number(seedAt - base) + 1;
  }
  const ids: string[] = [];
  for (let i = start; i < times.length; i++) {
    const read = sequence.read(base + BigInt(i), times[i]!, draft(i));
    if (i >= first) ids.push(read!.kind === "message" ? read!.message.id : "dup");
  }
  return ids;
}

const seed = fuzzSeed();
// Mostly the same ms (dense bursts cross block boundaries), sometimes big jumps.
const steps = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 100_000 })), {
  minLength: 1,
  maxLength: 9000,
  size: "max",
});
const bases = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 1n, max: 3n }).map((k) => k * BLOCK - 5n));

describe("log ids (log-sequence.ts)", () => {
  it("increase strictly along a partition whenever no ms holds more than 4096 records", () => {
    fc.assert(
      fc.property(steps, bases, (s, base) => {
        const ids = idsFrom(appendTimes(s), base, 0);
        return ids.every((id, i) => i === 0 || compareIds(id, ids[i - 1]!) > 0);
      }),
      // Shrinking 9000-record logs takes minutes: report the first counterexample as found.
      { seed, numRuns: 60, endOnFailure: true },
    );
  });

  it("are the same for a reader that starts at any later block, seeded with the record before it", () => {
    fc.assert(
      fc.property(steps, bases, fc.nat(), (s, base, pick) => {
        const times = appendTimes(s);
        const all = idsFrom(times, base, 0);
        const first = pick % times.length;
        const later = idsFrom(times, base, first);
        return later.length === all.length - first && later.every((id, i) => id === all[first + i]);
      }),
      { seed, numRuns: 60, endOnFailure: true },
    );
  });

  it("carry the append time (never earlier) and the partition's slot", () => {
    const sequence = new PartitionSequence(513, 60_000);
    const read = sequence.read(41n, T0, draft(0));
    expect(read!.kind).toBe("message");
    const { message } = read as { message: { id: string; createdAtMs: number } };
    expect(idTimeMs(message.id)).toBe(T0);
    expect(message.createdAtMs).toBe(T0);
    expect(Number((BigInt(message.id) >> 12n) & 1023n)).toBe(513);
    expect(Number(BigInt(message.id) & 4095n)).toBe(41);
  });

  it("keep increasing across a block that starts within the ms of the block before", () => {
    // 4095 and 4096 appended in the same ms: the second block's floor lifts 4096 one ms up.
    const sequence = new PartitionSequence(0, 60_000);
    const a = sequence.read(4095n, T0, draft(0)) as { message: { id: string } };
    const b = sequence.read(4096n, T0, draft(1)) as { message: { id: string } };
    expect(compareIds(b.message.id, a.message.id)).toBeGreaterThan(0);
    expect(idTimeMs(b.message.id)).toBe(T0 + 1);
  });

  it("answer a retry of the same key in the same channel with the original, within the window only", () => {
    const sequence = new PartitionSequence(0, 60_000);
    const original = sequence.read(0n, T0, draft(0, "k1"));
    expect(original!.kind).toBe("message");
    const retry = sequence.read(1n, T0 + 59_999, draft(1, "k1"));
    expect(retry).toEqual({ kind: "duplicate", original: (original as { message: unknown }).message });
    // The same key in another channel is another message (the store-side check refuses it).
    expect(sequence.read(2n, T0 + 59_999, { ...draft(2, "k1"), channel: { kind: "room", id: "8" } })!.kind).toBe("message");
    // Past the window the log forgets the key (the store remembers it: services/messages.ts).
    expect(sequence.read(3n, T0 + 60_001, draft(3, "k1"))!.kind).toBe("message");
  });

  it("refuses to read an offset twice", () => {
    const sequence = new PartitionSequence(0, 60_000);
    sequence.read(5n, T0, draft(0));
    expect(() => sequence.read(5n, T0, draft(0))).toThrow(/read twice/);
  });
});

describe("log reader (log-reader.ts)", () => {
  const topics = busTopics("t");
  const record = (offset: bigint, time: number, d: MessageDraft, nonce = `n${offset}`): KafkaMessage =>
    ({ offset: offset.toString(), timestamp: String(time), value: encodeRecord({ type: "message", draft: d, nonce }) }) as unknown as KafkaMessage;

  it("fetches from the record before the earlier of its window and hand-on point, and hands on only from the latter", () => {
    const reader = new LogReader(topics, 60_000);
    // Window starts at 5000, hand-on at 9000: fetch from 4095 (the last record of block 0).
    expect(reader.begin(topics.room, 2, 9000n, { low: 0n, windowStart: 5000n })).toBe(4095n);
    expect(reader.read(topics.room, 2, record(4095n, T0, draft(0)))).toBeUndefined();
    // A retry inside the window but before the hand-on point: learnt, not handed on.
    expect(reader.read(topics.room, 2, record(5000n, T0 + 1, draft(1, "k")))).toBeUndefined();
    for (let o = 5001n; o < 9000n; o++) expect(reader.read(topics.room, 2, record(o, T0 + 2, draft(Number(o))))).toBeUndefined();
    const retry = reader.read(topics.room, 2, record(9000n, T0 + 3, draft(9000, "k"), "mine"));
    expect(retry).toMatchObject({ kind: "sequenced", nonce: "mine", sequenced: { kind: "duplicate", original: { text: "m1" } } });
    // A refetch of what was read already (after a rejoin) is ignored.
    expect(reader.read(topics.room, 2, record(9000n, T0 + 3, draft(9000)))).toBeUndefined();
    expect(reader.next(topics.room, 2)).toBe(9001n);
  });

  it("starts at the log's first offset when the block before was deleted, and the control topic at its hand-on point", () => {
    const reader = new LogReader(topics, 60_000);
    expect(reader.begin(topics.direct, 0, 10n, { low: 3n, windowStart: 10n })).toBe(3n);
    expect(reader.begin(topics.control, 0, 77n, { low: 0n, windowStart: 0n })).toBe(77n);
  });
});
