/**
 * Property-based tests of the REST edge's parsers of client input (issue #11, item 11): route
 * matching (route-table.ts, path-template.ts), request decoding (request-codec.ts with
 * text-values.ts and field-path.ts) and JSON bodies. Every input is either decoded or refused
 * with a 4xx error (test/support/refusal.ts); where an encoder exists, encode → decode is the
 * identity. Seeded and bounded: see test/support/fuzz-seed.ts (FUZZ_SEED, FUZZ_RUNS).
 */
import type { DescField, Message } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { protoPath, resolveFieldPath } from "../../src/edges/rest/field-path.js";
import { compareSpecificity, matchPathTemplate, parsePathTemplate, type PathTemplate } from "../../src/edges/rest/path-template.js";
import { decodeRestRequest, parseJsonBody, RestDecodeError } from "../../src/edges/rest/request-codec.js";
import { buildRouteTable, type RestRoute } from "../../src/edges/rest/route-table.js";
import { propertyParameters } from "../support/fuzz-seed.js";
import { parsesOrRefuses, preview } from "../support/refusal.js";

const table = buildRouteTable([AuthService, RoomService, MessageService]);
const routes = table.routes;

// ---- arbitraries ---------------------------------------------------------------------------

/** Text a hostile client puts in a URL segment or value: tricky fragments and random text. */
const urlFragment = fc.oneof(
  fc.constantFrom("%", "%2", "%2F", "%2f", "%00", "%E0%A4%A", "%ED%A0%80", "%ff", "%C0%AF", "..", ".", ":", "::", "{", "}", "*", "**", ";", "=", "+", "~", "@"),
  fc.stringMatching(/^[0-9]{1,25}$/),
  fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
  fc.string({ unit: "binary", maxLength: 4 }),
);
const urlText = fc.array(urlFragment, { maxLength: 5 }).map((parts) => parts.join(""));

/** A pathname shaped by one of the real templates, its variables filled with hostile text. */
const templatedPath = fc.tuple(fc.constantFrom(...routes), fc.array(urlText, { minLength: 4, maxLength: 4 }), fc.option(urlText)).map(([route, fills, verbSuffix]) => {
  let next = 0;
  const parts = route.template.segments.map((s) => (s.kind === "literal" ? s.value : (fills[next++ % fills.length] ?? "")));
  return `/${parts.join("/")}${verbSuffix === null ? "" : `:${verbSuffix}`}`;
});
const pathname = fc.oneof(
  templatedPath,
  fc.array(urlText, { maxLength: 6 }).map((segs) => `/${segs.join("/")}`),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const verb = fc.oneof(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", ""), fc.string({ maxLength: 8 }));

/** Every name a query parameter could plausibly take, plus random ones. */
const FIELD_NAMES = [
  ...new Set(
    routes.flatMap((r) => [
      ...r.method.input.fields.flatMap((f) => [f.name, f.jsonName]),
      ...r.queryAliases.keys(),
    ]),
  ),
];
const paramName = fc.oneof(
  fc.constantFrom(...FIELD_NAMES, "ticket", "", "a.b", "room_id.x", "page_size.value", "__proto__", "constructor", "toString", "hasOwnProperty"),
  fc.string({ maxLength: 10 }),
);
const paramValue = fc.oneof(
  fc.stringMatching(/^-?[0-9]{1,25}$/),
  fc.constantFrom("", "true", "false", "-0", "1e3", " 1", "1 ", "0x10", "2147483648", "-2147483649", "4294967296", "99999999999999999999", "NaN", "null"),
  fc.string({ unit: "binary", maxLength: 20 }),
);
const query = fc.array(fc.tuple(paramName, paramValue), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs));

/** Nested JSON text, `depth` levels of arrays or objects around a value: what a stack-overflow attack sends. */
const deepJsonText = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 40_000 })), open: fc.constantFrom('[', '{"a":', '{"text":', '{"name":[') })
  .map(({ depth, open }) => {
    const close = open === "[" ? "]" : open === '{"name":[' ? "]}" : "}";
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  });
/** A JSON object text with hostile keys (prototype names, duplicates) and any values. */
const objectText = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...FIELD_NAMES, "__proto__", "constructor"), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 3 })), { maxLength: 5 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
const bodyText = fc.oneof(
  { weight: 3, arbitrary: objectText },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: deepJsonText },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant("") },
);

/** A string that survives encodeURIComponent and the codec's path rules: no "/" or NUL, not empty. */
const pathValue = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).filter((s) => !s.includes("/") && !s.includes("\0"));

function describeRequest(v: string, path: string, q: URLSearchParams, body: string): string {
  return `${v} ${path}?${q.toString()} body=${preview(body, 200)}`;
}

// ---- properties ----------------------------------------------------------------------------

describe("REST route matching and request decoding (property-based)", () => {
  test.prop([verb, pathname, query, bodyText], propertyParameters(2_000))(
    "any verb, path, query and body is decoded or refused with a 4xx, never anything else",
    (v, path, q, body) => {
      const input = describeRequest(v, path, q, body);
      const matched = table.match(v, path); // documented never to throw
      if (!("route" in matched)) {
        if (matched.error === "method_not_allowed") expect(matched.allow.length).toBeGreaterThan(0);
        return;
      }
      parsesOrRefuses(input, () => decodeRestRequest(matched.route, matched.pathParams, q, parseJsonBody(body)));
    },
  );

  test.prop([bodyText], propertyParameters(1_000))("a request body is parsed or refused with RestDecodeError", (body) => {
    try {
      parseJsonBody(body);
    } catch (error) {
      if (!(error instanceof RestDecodeError)) throw new Error(`parseJsonBody threw ${String(error)} for ${preview(body)}`);
    }
  });

  test.prop([fc.jsonValue({ maxDepth: 5 })], propertyParameters(500))("JSON bodies round-trip: parseJsonBody(JSON.stringify(v)) equals v (as JSON carries it: -0 is 0)", (value) => {
    const text = JSON.stringify(value);
    expect(parseJsonBody(text)).toStrictEqual(JSON.parse(text));
    expect(JSON.stringify(parseJsonBody(text))).toBe(text);
  });

  const withPathVariables = routes.filter((r) => r.pathFields.size > 0);
  test.prop([fc.constantFrom(...withPathVariables), pathValue], propertyParameters(1_000))(
    "path variables round-trip: a value percent-encoded into the template decodes to the same value on the same route",
    (route, value) => {
      const path = `/${route.template.segments.map((s) => (s.kind === "literal" ? s.value : encodeURIComponent(value))).join("/")}`;
      const matched = table.match(route.verb, path);
      if (!("route" in matched)) throw new Error(`${route.verb} ${path} did not match: ${matched.error}`);
      expect(matched.route).toBe(route);
      const message = decodeRestRequest(route, matched.pathParams, new URLSearchParams(), undefined) as Message & Record<string, unknown>;
      for (const fields of route.pathFields.values()) expect(fieldValue(message, fields)).toBe(value);
    },
  );

  const queryRoutes = routes.filter((r) => r.body.kind !== "all" && queryFields(r).length > 0);
  test.prop([fc.constantFrom(...queryRoutes).chain((route) => fc.tuple(fc.constant(route), queryAssignment(route)))], propertyParameters(1_000))(
    "query parameters round-trip: typed values under any of a field's names decode to the same values",
    ([route, assignment]) => {
      const q = new URLSearchParams(assignment.map(({ name, text }) => [name, text]));
      const path = `/${route.template.segments.map((s) => (s.kind === "literal" ? s.value : "42")).join("/")}`;
      const matched = table.match(route.verb, path);
      if (!("route" in matched)) throw new Error(`${route.verb} ${path} did not match`);
      const message = decodeRestRequest(route, matched.pathParams, q, undefined) as Message & Record<string, unknown>;
      for (const { field, value } of assignment) expect(message[field.localName]).toBe(value);
    },
  );

  test.prop([fc.constantFrom(...queryRoutes), fc.tuple(paramValue, paramValue)], propertyParameters(300))(
    "a singular query parameter given twice is refused with RestDecodeError",
    (route, [a, b]) => {
      const field = queryFields(route)[0]!;
      const path = `/${route.template.segments.map((s) => (s.kind === "literal" ? s.value : "42")).join("/")}`;
      const matched = table.match(route.verb, path);
      if (!("route" in matched)) throw new Error(`${route.verb} ${path} did not match`);
      const q = new URLSearchParams([[field.name, a], [field.name, b]]);
      expect(() => decodeRestRequest(route, matched.pathParams, q, undefined)).toThrow(RestDecodeError);
    },
  );

  test.prop([fc.constantFrom(...routes), fc.string({ maxLength: 30 })], propertyParameters(500))(
    "field paths from the client resolve or not, and never throw",
    (route, path) => {
      const fields = resolveFieldPath(route.method.input, path);
      if (fields !== undefined) expect(protoPath(fields).split(".").length).toBe(path.split(".").length);
    },
  );
});

describe("path templates (property-based)", () => {
  test.prop([templateSource(), fc.array(pathValue.map(encodeURIComponent), { minLength: 8, maxLength: 8 })], propertyParameters(1_000))(
    "a template from the grammar parses, and a path built from it matches with the values bound to its variables",
    (source, fills) => {
      const template = parsePathTemplate(source);
      expect(template.source).toBe(source);
      const { path, expected } = fillTemplate(template, fills);
      const params = matchPathTemplate(template, path);
      if (params === undefined) throw new Error(`${source} did not match ${path.join("/")}`);
      expect(params).toEqual(expected);
    },
  );

  test.prop([fc.string({ maxLength: 40 })], propertyParameters(1_000))("any template text parses or fails with a plain Error naming it", (source) => {
    try {
      parsePathTemplate(source);
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("invalid path template");
    }
  });

  test.prop([templateSource(), templateSource()], propertyParameters(1_000))("specificity is an order: compare(a, b) = -compare(b, a)", (a, b) => {
    const ta = parsePathTemplate(a);
    const tb = parsePathTemplate(b);
    expect(Math.sign(compareSpecificity(ta, tb))).toBe(-Math.sign(compareSpecificity(tb, ta)) || 0);
  });

  test.prop([templateSource(), fc.array(urlText, { maxLength: 8 })], propertyParameters(1_000))("matching any segments never throws", (source, segments) => {
    matchPathTemplate(parsePathTemplate(source), segments);
  });
});

// ---- helpers -------------------------------------------------------------------------------

function fieldValue(message: Record<string, unknown>, fields: readonly DescField[]): unknown {
  let value: unknown = message;
  for (const field of fields) {
    const current = value as Record<string, unknown>;
    const direct = current[field.localName];
    // A oneof member lives under its oneof: { case, value }.
    value = field.oneof ? (current[field.oneof.localName] as { case?: string; value?: unknown }).value : direct;
  }
  return value;
}

/** The fields a route takes from the query string: singular text fields not bound by the path. */
function queryFields(route: RestRoute): DescField[] {
  return route.method.input.fields.filter((f) => f.fieldKind === "scalar" && ![...route.pathFields.keys()].includes(f.name));
}

interface Assigned {
  readonly field: DescField;
  readonly name: string;
  readonly text: string;
  readonly value: unknown;
}

/** Some of a route's query fields, each under one of its names, with a value of its type and that value's text. */
function queryAssignment(route: RestRoute): fc.Arbitrary<Assigned[]> {
  const perField = queryFields(route).map((field) => {
    const aliases = [...route.queryAliases].filter(([, target]) => target === field.name).map(([alias]) => alias);
    const name = fc.constantFrom(field.name, field.jsonName, ...aliases);
    const typed: fc.Arbitrary<{ text: string; value: unknown }> =
      field.fieldKind === "scalar" && field.scalar === 5 /* INT32 */
        ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => ({ text: String(n), value: n }))
        : field.fieldKind === "scalar" && field.scalar === 8 /* BOOL */
          ? fc.boolean().map((b) => ({ text: String(b), value: b }))
          : fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => ({ text: s, value: s }));
    return fc.option(fc.record({ name, typed }).map(({ name: n, typed: t }) => ({ field, name: n, text: t.text, value: t.value })), { nil: undefined });
  });
  return fc.tuple(...perField).map((all) => all.filter((a): a is Assigned => a !== undefined));
}

const LITERAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()+,;=@";
const literal = fc.string({ unit: fc.constantFrom(...LITERAL_CHARS), minLength: 1, maxLength: 8 });
const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);

/** Template sources from the google.api.http grammar (without "**" inside variables). */
function templateSource(): fc.Arbitrary<string> {
  const segment = fc.oneof(
    { weight: 4, arbitrary: literal },
    { weight: 1, arbitrary: fc.constant("*") },
    { weight: 2, arbitrary: fc.tuple(fc.array(ident, { minLength: 1, maxLength: 2 }), fc.option(fc.array(fc.oneof(literal, fc.constant("*")), { minLength: 1, maxLength: 2 }))).map(([p, inner]) => `{${p.join(".")}${inner ? `=${inner.join("/")}` : ""}}`) },
  );
  return fc
    .record({ segments: fc.array(segment, { minLength: 1, maxLength: 5 }), rest: fc.boolean(), verb: fc.option(literal.filter((v) => !v.includes(":"))) })
    .map(({ segments, rest, verb: customVerb }) => {
      // A field may be bound once: rename repeated variables.
      const seen = new Set<string>();
      const unique = segments.map((s, i) => {
        const m = /^\{([^=}]+)/.exec(s);
        if (!m) return s;
        const name = seen.has(m[1]!) ? `${m[1]}_${i}` : m[1]!;
        seen.add(name);
        return s.replace(m[1]!, name);
      });
      return `/${[...unique, ...(rest ? ["**"] : [])].join("/")}${customVerb === null ? "" : `:${customVerb}`}`;
    });
}

/** A concrete path for a template: `*` and `**` filled from `fills`; the raw text each variable should bind. */
function fillTemplate(template: PathTemplate, fills: readonly string[]): { path: string[]; expected: Record<string, string> } {
  let next = 0;
  const path: string[] = [];
  const spans: [number, number][] = [];
  template.segments.forEach((s) => {
    const start = path.length;
    if (s.kind === "literal") path.push(s.value);
    else if (s.kind === "single") path.push(fills[next++ % fills.length]!);
    else for (let i = 0; i < 2; i++) path.push(fills[next++ % fills.length]!);
    spans.push([start, path.length]);
  });
  const expected: Record<string, string> = {};
  for (const v of template.variables) {
    const from = spans[v.start]![0];
    const to = spans[v.end - 1]![1];
    expected[v.fieldPath] = path.slice(from, to).join("/");
  }
  if (template.verb !== undefined) path[path.length - 1] = `${path[path.length - 1]}:${template.verb}`;
  return { path, expected };
}
