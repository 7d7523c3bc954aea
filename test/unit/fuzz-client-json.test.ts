/**
 * Property-based tests of the parsers of client JSON (issue #11, item 11): `/ws` client frames
 * (ws-client-frames.ts, documented never to throw) and REST request bodies (request-body.ts:
 * size, media type, UTF-8, JSON, unpaired surrogates). Any text is parsed or refused — a frame
 * with `ok: false`, a body with a 4xx error — never a thrown exception; JSON nested far deeper
 * than any real request is refused (items 2 and 6); well-formed input round-trips.
 * Seeded and bounded: see test/support/fuzz-seed.ts (FUZZ_SEED, FUZZ_RUNS).
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { hasLoneSurrogate } from "../../src/edges/http/client-json.js";
import { readJson } from "../../src/edges/rest/request-body.js";
import { type ClientFrame, parseClientFrame } from "../../src/edges/ws/ws-client-frames.js";
import { propertyParameters } from "../support/fuzz-seed.js";
import { assertCleanRefusal, FuzzBytes, FuzzText, preview, refusalProblem } from "../support/refusal.js";

// ---- arbitraries ---------------------------------------------------------------------------

/** Depth of nesting: mostly shallow, sometimes far past any real request (a stack-overflow attack). */
const depth = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1_000, max: 30_000 }));
const opener = fc.constantFrom("[", '{"a":', '{"text":', "[{}, ", '{"":[');

/** `depth` levels of arrays/objects around `inner`, as text. */
function nest(open: string, levels: number, inner: string): string {
  const closeOf = (o: string) => [...o].filter((c) => c === "[" || c === "{").reverse().map((c) => (c === "[" ? "]" : "}")).join("");
  return `${open.repeat(levels)}${inner}${closeOf(open).repeat(levels)}`;
}

const idText = fc.oneof(fc.stringMatching(/^[0-9]{1,22}$/), fc.string({ maxLength: 6 }));
const anyText = fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.constantFrom("\ud800", "a\udfffb", "😀", ""));
const frameValue = fc.oneof(anyText, idText, fc.jsonValue({ maxDepth: 2 }), fc.constant(true));

/** A /ws frame a hostile client sends: the real keys with any values, plus strays. */
const frameObject = fc.record(
  {
    type: fc.oneof(fc.constantFrom("subscribe", "unsubscribe", "post", "dm", "__proto__", "constructor", "toString", "hasOwnProperty"), fc.jsonValue({ maxDepth: 1 })),
    ref: fc.oneof(fc.string({ maxLength: 70 }), fc.jsonValue({ maxDepth: 1 })),
    room_id: frameValue,
    dms: fc.oneof(fc.constant(true), frameValue),
    since: frameValue,
    text: frameValue,
    client_message_id: frameValue,
    to_username: frameValue,
    to_user_id: frameValue,
  },
  { requiredKeys: [] },
);
/** Stray keys: prototype names (own keys once JSON.parse has run), duplicates, random ones. */
const strayKey = fc.oneof(fc.constantFrom("__proto__", "constructor", "type", "text", "extra"), fc.string({ maxLength: 6 }));
const frameText = fc
  .tuple(frameObject, fc.array(fc.tuple(strayKey, frameValue), { maxLength: 2 }))
  .map(([o, strays]) => `{${[...Object.entries(o), ...strays].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`);
const deepFrame = fc.tuple(fc.constantFrom("post", "subscribe", "dm"), fc.constantFrom("text", "ref", "room_id", "extra"), opener, depth).map(([type, key, open, levels]) => `{"type":"${type}","${key}":${nest(open, levels, '"x"')}}`);
const mutated = fc.tuple(frameText, fc.nat(), fc.string({ unit: "binary", maxLength: 3 }), fc.nat({ max: 3 })).map(([text, at, insert, drop]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i + drop);
});
const anyFrame = fc
  .oneof(
    { weight: 4, arbitrary: frameText },
    { weight: 2, arbitrary: deepFrame },
    { weight: 1, arbitrary: fc.tuple(opener, depth).map(([o, d]) => nest(o, d, "1")) },
    { weight: 2, arbitrary: mutated },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  )
  .map((text) => new FuzzText(text));

/** A well-formed frame, as the server's parser returns it. */
const validFrame: fc.Arbitrary<ClientFrame> = (() => {
  const id = fc.stringMatching(/^[0-9]{1,19}$/);
  const text = fc.string({ unit: "grapheme", maxLength: 30 });
  const ref = fc.option(fc.string({ unit: "grapheme-ascii", maxLength: 64 }), { nil: undefined });
  const target = fc.oneof(id.map((roomId) => ({ kind: "room" as const, roomId })), fc.constant({ kind: "direct" as const }));
  const withRef = <T extends object>(frame: T, r: string | undefined) => (r === undefined ? frame : { ...frame, ref: r });
  return fc.oneof(
    fc
      .tuple(target, fc.oneof(fc.constant(""), id), ref, fc.boolean())
      .map(([t, since, r, presence]) => withRef({ type: "subscribe" as const, target: t.kind === "room" && presence ? { ...t, presence } : t, since }, r)),
    fc.tuple(target, ref).map(([t, r]) => withRef({ type: "unsubscribe" as const, target: t }, r)),
    fc.tuple(id, text, text, ref).map(([roomId, t, c, r]) => withRef({ type: "post" as const, roomId, text: t, clientMessageId: c }, r)),
    fc.tuple(fc.oneof(id.map((userId) => ({ userId })), text.map((username) => ({ username }))), text, text, ref).map(([to, t, c, r]) =>
      withRef({ type: "dm" as const, to, text: t, clientMessageId: c }, r),
    ),
  );
})();

/** The frame's wire form (what a client sends on /ws), the inverse of parseClientFrame. */
function toWire(frame: ClientFrame): string {
  const ref = frame.ref === undefined ? {} : { ref: frame.ref };
  switch (frame.type) {
    case "subscribe":
    case "unsubscribe": {
      const target = frame.target.kind === "room" ? { room_id: frame.target.roomId, ...(frame.target.presence ? { presence: true } : {}) } : { dms: true };
      return JSON.stringify({ type: frame.type, ...ref, ...target, ...(frame.type === "subscribe" && frame.since !== "" ? { since: frame.since } : {}) });
    }
    case "post":
      return JSON.stringify({ type: "post", ...ref, room_id: frame.roomId, text: frame.text, client_message_id: frame.clientMessageId });
    case "dm": {
      const to = "userId" in frame.to ? { to_user_id: frame.to.userId } : { to_username: frame.to.username };
      return JSON.stringify({ type: "dm", ...ref, ...to, text: frame.text, client_message_id: frame.clientMessageId });
    }
  }
}

/** How deep a JSON text nests (brackets outside strings). */
function nesting(text: string): number {
  let deepest = 0;
  let level = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") deepest = Math.max(deepest, ++level);
    else if (c === "]" || c === "}") level--;
  }
  return deepest;
}

// ---- /ws client frames ---------------------------------------------------------------------

describe("/ws client frames (property-based)", () => {
  test.prop([anyFrame], propertyParameters(2_000))("any text frame is parsed or refused (ok: false), never thrown (issue #11 items 1-2)", ({ text }) => {
    let parsed;
    try {
      parsed = parseClientFrame(text);
    } catch (error) {
      throw new Error(`parseClientFrame threw ${String(error)} for ${preview(text)}`, { cause: error });
    }
    if (!parsed.ok) expect(parsed.message).toEqual(expect.any(String));
    // No field of a frame is an array or object: anything nested is refused.
    if (nesting(text) > 1) expect(parsed.ok, preview(text)).toBe(false);
  });

  test.prop([validFrame], propertyParameters(1_000))("well-formed frames round-trip: parseClientFrame(wire(f)) = f", (frame) => {
    const parsed = parseClientFrame(toWire(frame));
    expect(parsed).toEqual({ ok: true, frame });
  });

  test.prop([validFrame, fc.constantFrom("\ud800", "\udc00x", "a\ud83d")], propertyParameters(300))(
    "a frame holding an unpaired surrogate is refused without closing the socket",
    (frame, lone) => {
      const wire = JSON.parse(toWire(frame)) as Record<string, unknown>;
      const key = "text" in wire ? "text" : "room_id" in wire ? "room_id" : "ref";
      wire[key] = `${String(wire[key] ?? "")}${lone}`;
      const parsed = parseClientFrame(JSON.stringify(wire));
      expect(parsed).toMatchObject({ ok: false, fatal: false });
    },
  );
});

// ---- REST request bodies -------------------------------------------------------------------

const LIMITS = { maxBytes: 1024 * 1024, timeoutMs: 10_000 };
const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"];
const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/json; charset=latin1", "application/x-www-form-urlencoded", "", "application/json;;", "json") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const bodyBytes = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.tuple(opener, depth).map(([o, d]) => Buffer.from(nest(o, d, '"x"'))) },
  { weight: 1, arbitrary: anyText.map((s) => Buffer.from(JSON.stringify({ text: s }))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([v, junk]) => Buffer.concat([Buffer.from(JSON.stringify(v)), Buffer.from(junk)])) },
);
/** Splits bytes into chunks at random points, as TCP may deliver them. */
const chunked = (bytes: fc.Arbitrary<Buffer>) =>
  fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 4 })).map(([b, cuts]) => {
    const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
    return new FuzzBytes([...points, b.length].map((end, i) => b.subarray(i === 0 ? 0 : points[i - 1], end)).filter((c) => c.length > 0));
  });

/** A request as node:http hands it over: a readable body with headers. */
function request(chunks: readonly Buffer[], type: string | undefined): IncomingMessage {
  const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
  return Object.assign(Readable.from(chunks, { objectMode: false }), { headers, httpVersionMajor: 1 }) as unknown as IncomingMessage;
}

describe("REST request bodies (property-based)", () => {
  test.prop([chunked(bodyBytes), contentType], propertyParameters(1_500))(
    "any body is parsed or refused with a 4xx, never anything else (issue #11 items 2, 6: deep JSON answered 500)",
    async ({ chunks }, type) => {
      const text = Buffer.concat(chunks).toString("latin1");
      try {
        await readJson(request(chunks, type), LIMITS);
      } catch (error) {
        assertCleanRefusal(error, `content-type ${JSON.stringify(type)}, body ${preview(text)}`);
      }
    },
  );

  test.prop([fc.tuple(opener, fc.integer({ min: 1_000, max: 30_000 })).map(([o, d]) => new FuzzText(nest(o, d, '"x"')))], propertyParameters(100))(
    "JSON nested 1,000+ deep is refused with a 4xx, not walked (issue #11 item 2: a small documented depth limit)",
    async ({ text }) => {
      try {
        await readJson(request([Buffer.from(text)], "application/json"), LIMITS);
      } catch (error) {
        assertCleanRefusal(error, text);
        return;
      }
      throw new Error(`a body nested ${nesting(text)} deep was accepted: ${preview(text)}`);
    },
  );

  test.prop([fc.jsonValue({ maxDepth: 8 }), fc.constantFrom(...JSON_TYPES), fc.array(fc.nat(), { maxLength: 3 })], propertyParameters(1_000))(
    "well-formed JSON of modest depth round-trips: readJson(bytes of v) = v",
    async (value, type, cuts) => {
      const text = JSON.stringify(value);
      const bytes = Buffer.from(text);
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks = [...points, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : points[i - 1], end)).filter((c) => c.length > 0);
      const expected = JSON.parse(text) as unknown;
      let got: unknown;
      try {
        got = await readJson(request(chunks, type), LIMITS);
      } catch (error) {
        // Only a lone surrogate (which fc.jsonValue may generate) is a reason to refuse it.
        if (!hasLoneSurrogate(expected)) throw new Error(`refused well-formed JSON ${preview(text)}: ${refusalProblem(error) ?? String(error)}`);
        assertCleanRefusal(error, text);
        return;
      }
      expect(got).toStrictEqual(expected);
    },
  );
});
