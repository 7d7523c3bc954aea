/**
 * The exact layout and bounds of snowflake ids (41 bits of ms since PARLEY_EPOCH, 10 of worker, 12 of
 * sequence), and ordering across the 17 → 18 digit step that ids took in October 2025: stored data
 * mixes both lengths, so a comparison that looks only at the characters would put every October id
 * before September's. Written against mutation testing (TESTING.md, "Mutation testing").
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { BUCKET_MS, PARLEY_EPOCH_MS, SnowflakeGenerator, bucketOf, compareIds, idTimeMs, minIdAt } from "../../src/domain/ids.js";
import { propertyParameters } from "../support/fuzz-seed.js";

const EPOCH = Number(PARLEY_EPOCH_MS);
/** The id with these fields, built independently of the generator. */
const idOf = (msSinceEpoch: number, worker: number, sequence: number): string =>
  ((BigInt(msSinceEpoch) << 22n) | (BigInt(worker) << 12n) | BigInt(sequence)).toString();
/** The first millisecond whose ids have 18 digits: ceil(10^17 / 2^22) ms after the epoch (2025-10-04). */
const FIRST_18_DIGIT_MS = EPOCH + Number((10n ** 17n + (1n << 22n) - 1n) >> 22n);

describe("snowflake layout", () => {
  it("puts the milliseconds, the worker and a per-millisecond sequence starting at 0 in their bits", () => {
    let now = EPOCH + 1000;
    const gen = new SnowflakeGenerator(5, () => now);
    expect(gen.next()).toBe(idOf(1000, 5, 0));
    expect(gen.next()).toBe(idOf(1000, 5, 1));
    now += 1;
    expect(gen.next()).toBe(idOf(1001, 5, 0));
    now += 7;
    expect(gen.next()).toBe(idOf(1008, 5, 0));
    expect(gen.next()).toBe(idOf(1008, 5, 1));
  });

  it("issues 4096 ids in one millisecond, then borrows the next millisecond with the sequence back at 0", () => {
    const now = EPOCH + 50;
    const gen = new SnowflakeGenerator(1023, () => now);
    for (let sequence = 0; sequence < 4096; sequence++) expect(gen.next()).toBe(idOf(50, 1023, sequence));
    expect(gen.next()).toBe(idOf(51, 1023, 0));
    expect(gen.next()).toBe(idOf(51, 1023, 1));
  });

  it("keeps the last millisecond (and counts on) when the clock steps back, and resets the sequence once it moves past", () => {
    let now = EPOCH + 10_000;
    const gen = new SnowflakeGenerator(3, () => now);
    expect(gen.next()).toBe(idOf(10_000, 3, 0));
    now -= 5_000;
    expect(gen.next()).toBe(idOf(10_000, 3, 1));
    expect(gen.next()).toBe(idOf(10_000, 3, 2));
    now = EPOCH + 10_000;
    expect(gen.next()).toBe(idOf(10_000, 3, 3));
    now += 1;
    expect(gen.next()).toBe(idOf(10_001, 3, 0));
  });

  it.each([0, 1, 512, 1023])("accepts worker id %i", (worker) => {
    expect(new SnowflakeGenerator(worker, () => EPOCH).next()).toBe(idOf(0, worker, 0));
  });

  it.each([-1, 1024, 1025, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses worker id %d, naming the range", (worker) => {
    expect(() => new SnowflakeGenerator(worker)).toThrow(new RangeError(`worker id must be an integer in 0..1023, got ${worker}`));
  });
});

describe("ids as time", () => {
  it("idTimeMs reads the milliseconds back, across the 17 → 18 digit step", () => {
    const before = idOf(FIRST_18_DIGIT_MS - 1 - EPOCH, 0, 0);
    const after = idOf(FIRST_18_DIGIT_MS - EPOCH, 0, 0);
    expect([before.length, after.length]).toEqual([17, 18]);
    expect(idTimeMs(before)).toBe(FIRST_18_DIGIT_MS - 1);
    expect(idTimeMs(after)).toBe(FIRST_18_DIGIT_MS);
    expect(idTimeMs("0")).toBe(EPOCH);
  });

  it("minIdAt is the id of worker 0, sequence 0 at that millisecond (fractions floored), and 0 before the epoch", () => {
    expect(minIdAt(EPOCH + 1000)).toBe(idOf(1000, 0, 0));
    expect(minIdAt(EPOCH + 1000.9)).toBe(idOf(1000, 0, 0));
    expect(minIdAt(EPOCH + 1)).toBe(idOf(1, 0, 0));
    expect(minIdAt(EPOCH)).toBe("0");
    expect(minIdAt(EPOCH - 1)).toBe("0");
    expect(minIdAt(0)).toBe("0");
    expect(minIdAt(-5)).toBe("0");
    expect(minIdAt(FIRST_18_DIGIT_MS)).toHaveLength(18);
    expect(minIdAt(FIRST_18_DIGIT_MS - 1)).toHaveLength(17);
  });

  test.prop([fc.integer({ min: EPOCH + 1, max: EPOCH + 2 ** 40 }), fc.integer({ min: 0, max: 1023 })], propertyParameters(500))(
    "minIdAt(t) is above every id of an earlier millisecond and at most any id of t: a tight range bound",
    (t, worker) => {
      const lastBefore = idOf(t - 1 - EPOCH, 1023, 4095);
      const first = new SnowflakeGenerator(worker, () => t).next();
      expect(compareIds(lastBefore, minIdAt(t))).toBeLessThan(0);
      expect(BigInt(minIdAt(t))).toBe(BigInt(lastBefore) + 1n);
      expect(compareIds(minIdAt(t), first)).toBeLessThanOrEqual(0);
      expect(idTimeMs(minIdAt(t))).toBe(t);
    },
  );

  it("a bucket is one day from the epoch: bucketOf steps at each midnight UTC", () => {
    expect(BUCKET_MS).toBe(86_400_000);
    expect(bucketOf("0")).toBe(0);
    expect(bucketOf(idOf(BUCKET_MS - 1, 1023, 4095))).toBe(0);
    expect(bucketOf(idOf(BUCKET_MS, 0, 0))).toBe(1);
    expect(bucketOf(minIdAt(Date.UTC(2025, 9, 4)))).toBe(276);
    expect(bucketOf(minIdAt(Date.UTC(2025, 9, 4) - 1))).toBe(275);
  });
});

describe("compareIds across lengths", () => {
  it("orders a 17-digit id before an 18-digit one, though it is greater as text", () => {
    const september = new SnowflakeGenerator(1, () => Date.UTC(2025, 8, 30)).next();
    const october = new SnowflakeGenerator(1, () => Date.UTC(2025, 9, 10)).next();
    expect([september.length, october.length]).toEqual([17, 18]);
    expect(september > october).toBe(true);
    expect(compareIds(september, october)).toBeLessThan(0);
    expect(compareIds(october, september)).toBeGreaterThan(0);
    expect(compareIds("99999999999999999", "100000000000000000")).toBeLessThan(0);
    expect(compareIds("100000000000000000", "99999999999999999")).toBeGreaterThan(0);
  });

  it("answers exactly -1, 0 or 1 for ids of one length, and 0 only for the same id", () => {
    expect(compareIds("123456789012345678", "123456789012345678")).toBe(0);
    expect(compareIds("123456789012345678", "123456789012345679")).toBe(-1);
    expect(compareIds("123456789012345679", "123456789012345678")).toBe(1);
    expect(compareIds("0", "0")).toBe(0);
  });

  const mixedId = fc.oneof(fc.bigInt({ min: 10n ** 16n, max: 10n ** 17n - 1n }), fc.bigInt({ min: 10n ** 17n, max: 10n ** 18n - 1n })).map(String);
  test.prop([fc.array(mixedId, { maxLength: 30 })], propertyParameters(300))("sorting 17- and 18-digit ids with compareIds sorts them by value", (ids) => {
    const byValue = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    expect([...ids].sort(compareIds)).toEqual(byValue);
  });
});
