/**
 * Bounded parsing of client JSON: the depth scan (strings and escapes skipped, text and UTF-8
 * bytes alike, 64 levels accepted and 65 refused, a million levels in one pass), the iterative
 * lone-surrogate check, and the /ws frame parser's refusal of deep frames with close code 1007.
 */
import { describe, expect, it } from "vitest";
import { exceedsJsonDepth, hasLoneSurrogate, MAX_JSON_DEPTH } from "../../src/edges/http/client-json.js";
import { parseClientFrame } from "../../src/edges/ws/ws-client-frames.js";

const nested = (levels: number, open = "[", close = "]") => `${open.repeat(levels)}${close.repeat(levels)}`;

describe("exceedsJsonDepth", () => {
  it("accepts MAX_JSON_DEPTH levels and refuses one more, in arrays, objects and both", () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(exceedsJsonDepth(nested(64))).toBe(false);
    expect(exceedsJsonDepth(nested(65))).toBe(true);
    const objects = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
    expect(exceedsJsonDepth(objects(64))).toBe(false);
    expect(exceedsJsonDepth(objects(65))).toBe(true);
    expect(exceedsJsonDepth(`{"a":[${nested(62)}]}`)).toBe(false);
    expect(exceedsJsonDepth(`{"a":[${nested(63)}]}`)).toBe(true);
  });

  it("counts depth, not brackets: siblings do not add up", () => {
    expect(exceedsJsonDepth(`[${Array.from({ length: 10_000 }, () => nested(60)).join(",")}]`)).toBe(false);
  });

  it("skips brackets inside strings, escaped quotes included", () => {
    expect(exceedsJsonDepth(JSON.stringify({ text: "[".repeat(1000) }))).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ text: `\\"${"{".repeat(1000)}` }))).toBe(false);
    expect(exceedsJsonDepth(`["\\\\", ${nested(64)}]`)).toBe(true);
  });

  it("reads UTF-8 bytes as it reads text", () => {
    const text = `{"name":"é😀[[[","x":${nested(63)}}`;
    expect(exceedsJsonDepth(new TextEncoder().encode(text))).toBe(exceedsJsonDepth(text));
    expect(exceedsJsonDepth(new TextEncoder().encode(`{"é":${nested(64)}}`))).toBe(true);
  });

  it("scans a million levels without recursion", () => {
    expect(exceedsJsonDepth(nested(1_000_000))).toBe(true);
    expect(exceedsJsonDepth(nested(1_000_000), Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("hasLoneSurrogate", () => {
  it("finds an unpaired surrogate in any string or key, and accepts pairs", () => {
    expect(hasLoneSurrogate({ a: ["ok", { b: "\ud800" }] })).toBe(true);
    expect(hasLoneSurrogate({ "\udc00": 1 })).toBe(true);
    expect(hasLoneSurrogate({ a: ["😀", { b: "\ud83d\ude00" }], n: 1, z: null })).toBe(false);
  });

  it("walks any depth without recursion", () => {
    const deep = JSON.parse(nested(200_000)) as unknown;
    expect(hasLoneSurrogate(deep)).toBe(false);
    let value: unknown = "\ud800";
    for (let i = 0; i < 200_000; i++) value = [value];
    expect(hasLoneSurrogate(value)).toBe(true);
  });
});

describe("parseClientFrame", () => {
  it("closes with 1007 for a frame nested too deeply, before parsing it", () => {
    expect(parseClientFrame(`{"type":"post","text":${nested(5_000)}}`)).toEqual({
      ok: false,
      fatal: true,
      closeCode: 1007,
      message: "frame nests objects and arrays more than 64 levels deep",
    });
  });

  it("closes with 4400 for what is not a JSON object with a known type", () => {
    expect(parseClientFrame("{nope")).toMatchObject({ ok: false, fatal: true, closeCode: 4400 });
    expect(parseClientFrame('{"type":"hello"}')).toMatchObject({ ok: false, fatal: true, closeCode: 4400 });
  });
});
