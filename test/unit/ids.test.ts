import { describe, expect, it } from "vitest";
import { SnowflakeGenerator, bucketOf, compareIds, idTimeMs, minIdAt } from "../../src/domain/ids.js";
import { roomName, uniquenessKey } from "../../src/domain/names.js";

describe("snowflake ids", () => {
  it("are strictly increasing, even when the clock steps back or a millisecond overflows", () => {
    let now = Date.UTC(2026, 0, 1);
    const gen = new SnowflakeGenerator(7, () => now);
    const seen: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (i === 5000) now -= 1000;
      seen.push(gen.next());
    }
    for (let i = 1; i < seen.length; i++) expect(compareIds(seen[i - 1]!, seen[i]!)).toBeLessThan(0);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("carry their time, and two workers never collide", () => {
    const now = Date.UTC(2026, 5, 1);
    const a = new SnowflakeGenerator(1, () => now).next();
    const b = new SnowflakeGenerator(2, () => now).next();
    expect(a).not.toBe(b);
    expect(idTimeMs(a)).toBe(now);
    expect(compareIds(minIdAt(now), a)).toBeLessThanOrEqual(0);
    expect(bucketOf(a)).toBe(bucketOf(b));
  });

  it("rejects a worker id out of range", () => {
    expect(() => new SnowflakeGenerator(1024)).toThrow(RangeError);
  });
});

describe("names", () => {
  it("fold case and normalise to NFC for uniqueness", () => {
    expect(uniquenessKey("Général")).toBe(uniquenessKey("général"));
    expect(uniquenessKey("Ge\u0301ne\u0301ral")).toBe(uniquenessKey("Général"));
    expect(roomName("  Lobby ").name).toBe("Lobby");
    expect(() => roomName("   ")).toThrow();
  });
});
