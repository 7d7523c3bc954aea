/**
 * The REST request codec (request-codec.ts, text-values.ts, field-path.ts, decode-error.ts) over
 * every kind of field, on the made-up service of rest-codec-fixture.ts: what each text becomes,
 * what is refused and with which message and field, where path, query and body meet.
 */
import { toJson } from "@bufbuild/protobuf";
import type { DescField } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { isTextField, isTextMessage, protoPath, requireFieldPath, resolveFieldPath } from "../../src/edges/rest/field-path.js";
import { decodeRestRequest, parseJsonBody, RestDecodeError } from "../../src/edges/rest/request-codec.js";
import { buildRouteTable, type RouteTable } from "../../src/edges/rest/route-table.js";
import { isJsonObject, setJsonPath, textToJson } from "../../src/edges/rest/text-values.js";
import { CodecTestService, Everything, Inner } from "./rest-codec-fixture.js";

// Built on first use, not on import: a route table that fails to build then fails tests (for
// mutation testing, a detected mutant) instead of the whole file's import.
let table: RouteTable | undefined;

function routeOf(verb: string, pathname: string) {
  table ??= buildRouteTable([CodecTestService]);
  const matched = table.match(verb, pathname);
  if (!("route" in matched)) throw new Error(`no route for ${verb} ${pathname}`);
  return matched;
}

/** The request a REST call decodes to, as proto JSON. */
function decode(verb: string, url: string, body?: unknown): unknown {
  const u = new URL(url, "http://localhost");
  const { route, pathParams } = routeOf(verb, u.pathname);
  return toJson(Everything, decodeRestRequest(route, pathParams, u.searchParams, body));
}

/** The RestDecodeError a REST call is refused with. */
function refusal(verb: string, url: string, body?: unknown): { message: string; field: string | undefined } {
  try {
    decode(verb, url, body);
  } catch (error) {
    expect(error).toBeInstanceOf(RestDecodeError);
    const { message, field } = error as RestDecodeError;
    return { message, field };
  }
  throw new Error(`${verb} ${url} was not refused`);
}

const fieldOf = (name: string): DescField => Everything.fields.find((f) => f.name === name)!;

describe("query values by field type", () => {
  it("decodes every scalar, enum, list and text-like message type", () => {
    expect(
      decode(
        "GET",
        "/things/a/5?flag=true&s32=-3&u32=4&f32=5&sf32=-6&big=-9223372036854775808&s64=7&u64=18446744073709551615&f64=8&sf64=-9" +
          "&ratio=1.5&blob=AQI&color=RED&tags=a&tags=b&nums=1&nums=-2&colors=BLUE&colors=1&wrappedCount=7&wrappedFlag=false" +
          "&wrappedCounts=5&wrappedCounts=-6&when=2025-01-01T00:00:00Z&whens=2025-01-01T00:00:00Z&inner.level=3&deep=x&pickB=q",
      ),
    ).toEqual({
      flag: true,
      count: 5,
      s32: -3,
      u32: 4,
      f32: 5,
      sf32: -6,
      big: "-9223372036854775808",
      s64: "7",
      u64: "18446744073709551615",
      f64: "8",
      sf64: "-9",
      ratio: 1.5,
      blob: "AQI=",
      color: "RED",
      tags: ["a", "b"],
      nums: [1, -2],
      colors: ["BLUE", "RED"],
      inner: { name: "a", level: 3, deeper: { name: "x" } },
      wrappedCount: 7,
      wrappedFlag: false,
      wrappedCounts: ["5", "-6"],
      when: "2025-01-01T00:00:00Z",
      whens: ["2025-01-01T00:00:00Z"],
      pickB: "q",
    });
  });

  it("takes one value for a list too, and the path's values", () => {
    expect(decode("GET", "/things/b%20c/-12?tags=only&nums=7&colors=2")).toEqual({ count: -12, inner: { name: "b c" }, tags: ["only"], nums: [7], colors: ["BLUE"] });
    expect(decode("GET", "/things/a/5?flag=false")).toEqual({ count: 5, inner: { name: "a" } });
  });

  it("passes enum numbers as numbers (open enums keep unknown ones) and names as names, digits or not", () => {
    expect(decode("GET", "/things/a/5?color=12")).toMatchObject({ color: 12 });
    expect(decode("GET", "/things/a/5?color=-1")).toMatchObject({ color: -1 });
    expect(decode("GET", "/things/a/5?color=BLUE2")).toMatchObject({ color: "BLUE2" });
    expect(decode("GET", "/things/a/5?colors=BLUE2&colors=3")).toMatchObject({ colors: ["BLUE2", "BLUE2"] });
  });

  it.each([
    ["flag=True", "flag", "flag must be true or false"],
    ["flag=1", "flag", "flag must be true or false"],
    ["flag=", "flag", "flag must be true or false"],
    ["wrappedFlag=yes", "wrappedFlag", "wrappedFlag must be true or false"],
    ["s32=x5", "s32", "s32 must be an integer"],
    ["u32=5x", "u32", "u32 must be an integer"],
    ["f32=1.5", "f32", "f32 must be an integer"],
    ["sf32=12345678901", "sf32", "sf32 must be an integer"],
    ["nums=1&nums=a", "nums", "nums must be an integer"],
    ["wrappedCount=seven", "wrappedCount", "wrappedCount must be an integer"],
    ["big=1.5", "big", "big must be an integer"],
    ["s64=x5", "s64", "s64 must be an integer"],
    ["u64=5x", "u64", "u64 must be an integer"],
    ["f64=123456789012345678901", "f64", "f64 must be an integer"],
    ["sf64=--1", "sf64", "sf64 must be an integer"],
    ["wrappedCounts=", "wrappedCounts", "wrappedCounts must be an integer"],
  ])("refuses %s naming the parameter", (query, field, message) => {
    expect(refusal("GET", `/things/a/5?${query}`)).toEqual({ field, message });
  });

  it("accepts the widest integers each width allows by its text", () => {
    expect(decode("GET", "/things/a/5?sf32=-2147483648&u32=4294967295")).toMatchObject({ sf32: -2147483648, u32: 4294967295 });
    expect(decode("GET", "/things/a/5?s64=-9223372036854775808&f64=18446744073709551615")).toMatchObject({ s64: "-9223372036854775808", f64: "18446744073709551615" });
  });

  it("leaves what the text cannot say to fromJson, naming no field when its message does not", () => {
    const enumText = refusal("GET", "/things/a/5?color=x1");
    expect(enumText.field).toBeUndefined();
    expect(enumText.message).toMatch(/enum codectest\.Color/);
    expect(refusal("GET", "/things/a/5?when=yesterday").field).toBeUndefined();
  });

  it.each(["doc", "labels", "inners", "inners.name", "inner", "inner.deeper", "count.x", "nope", "tags.x"])("refuses the parameter %s: not a field a URL can carry", (name) => {
    expect(refusal("GET", `/things/a/5?${name}=x`)).toEqual({ field: name, message: `unknown query parameter ${name}` });
  });

  it("refuses a field given by the path, twice, or under two names", () => {
    expect(refusal("GET", "/things/a/5?count=1")).toEqual({ field: "count", message: "query parameter count is given by the path" });
    expect(refusal("GET", "/things/a/5?inner.name=b")).toEqual({ field: "inner.name", message: "query parameter inner.name is given by the path" });
    expect(refusal("GET", "/things/a/5?title=a&title=b")).toEqual({ field: "title", message: "query parameter title is given more than once" });
    expect(refusal("GET", "/things/a/5?n=1&nums=2")).toEqual({ field: "nums", message: "nums is given more than once" });
    expect(refusal("GET", "/things/a/5?pick_b=1&pickB=2")).toEqual({ field: "pickB", message: "pickB is given more than once" });
  });

  it("resolves aliases to their (nested) fields", () => {
    expect(decode("GET", "/things/a/5?n=4&n=5&deep=z")).toEqual({ count: 5, nums: [4, 5], inner: { name: "a", deeper: { name: "z" } } });
  });
});

describe("paths", () => {
  it("binds ** variables with their slashes, and refuses an encoded slash inside one segment", () => {
    expect(decode("POST", "/flags/true/BLUE/files/a/b", ["x"])).toEqual({ flag: true, color: "BLUE", title: "files/a/b", tags: ["x"] });
    expect(decode("POST", "/flags/false/2/files")).toEqual({ color: "BLUE", title: "files" });
    expect(refusal("POST", "/flags/false/2/files/c%2Fd")).toEqual({ field: "title", message: 'path parameter title must not contain "/" or NUL' });
    expect(refusal("POST", "/flags/maybe/1/files")).toEqual({ field: "flag", message: "flag must be true or false" });
  });

  it("refuses bad percent-encoding and NUL, naming the variable", () => {
    expect(refusal("GET", "/things/%E0%A4%A/5")).toEqual({ field: "inner.name", message: "path parameter inner.name is not valid percent-encoding" });
    expect(refusal("GET", "/things/a%00/5")).toEqual({ field: "inner.name", message: 'path parameter inner.name must not contain "/" or NUL' });
    expect(refusal("GET", "/things/a/5x")).toEqual({ field: "count", message: "count must be an integer" });
  });

  it("refuses a route whose path parameters were not all matched", () => {
    const { route } = routeOf("GET", "/things/a/5");
    expect(() => decodeRestRequest(route, { "inner.name": "a" }, new URLSearchParams(), undefined)).toThrow(new RestDecodeError("path parameter count is missing", "count"));
  });
});

describe("bodies", () => {
  it('"*" takes the fields of the request, merged with the path', () => {
    expect(decode("PUT", "/things/12", { title: "t", wrapped_count: 3 })).toEqual({ big: "12", title: "t", wrappedCount: 3 });
    expect(decode("PUT", "/things/12")).toEqual({ big: "12" });
    expect(decode("PUT", "/inners/n/b", { inner: { level: 2 } })).toEqual({ inner: { name: "n", level: 2 }, pickB: "b" });
  });

  it('"*" refuses the path\'s fields again, by either name, and query parameters', () => {
    expect(refusal("PUT", "/things/12", { big: "13" })).toEqual({ field: "big", message: "big is given more than once" });
    expect(refusal("PUT", "/inners/n/b", { pick_b: "c" })).toEqual({ field: "pick_b", message: "pick_b is given more than once" });
    expect(refusal("PUT", "/inners/n/b", { inner: { name: "m" } })).toEqual({ field: "inner.name", message: "inner.name is given more than once" });
    expect(refusal("PUT", "/inners/n/b", { inner: "n" })).toEqual({ field: "inner", message: "inner must be an object" });
    expect(refusal("PUT", "/inners/n/b", { inner: ["n"] })).toEqual({ field: "inner", message: "inner must be an object" });
    expect(refusal("PUT", "/things/12?x=1&y=2", {})).toEqual({ field: "x", message: "query parameter x is not accepted: send the fields in the JSON body" });
    expect(refusal("PUT", "/things/12", "t")).toEqual({ field: undefined, message: "request body must be a JSON object" });
    expect(refusal("PUT", "/things/12", null)).toEqual({ field: undefined, message: "request body must be a JSON object" });
  });

  it("a path variable of a oneof excludes its siblings from the body, by JSON or proto name", () => {
    expect(refusal("PUT", "/inners/n/b", { pickA: "a" })).toEqual({ field: "pickA", message: "pickA cannot be given with pick_b from the path" });
    expect(refusal("PUT", "/inners/n/b", { pick_a: "a" })).toEqual({ field: "pickA", message: "pickA cannot be given with pick_b from the path" });
  });

  it("only a top-level oneof member excludes siblings: a nested one leaves a top-level field of the same name alone", () => {
    expect(decode("PUT", "/choices/a", { choice_b: "b" })).toEqual({ inner: { choiceA: "a" }, choiceB: "b" });
    expect(refusal("PUT", "/choices/a", { inner: { choiceB: "b" } }).field).toBeUndefined();
  });

  it("a field body is the value of that field; query parameters still apply", () => {
    expect(decode("PATCH", "/picks/p", { name: "n" })).toEqual({ inner: { name: "n" }, pickA: "p" });
    expect(decode("PATCH", "/picks/p?inner.level=2", { name: "n" })).toEqual({ inner: { name: "n", level: 2 }, pickA: "p" });
    expect(decode("PATCH", "/picks/p")).toEqual({ pickA: "p" });
    expect(refusal("PATCH", "/picks/p?title=a&title=b")).toMatchObject({ field: "title" });
  });

  it("a route without a body rule refuses any body, naming the route", () => {
    expect(refusal("GET", "/things", {})).toEqual({ field: undefined, message: "GET /things takes no request body" });
  });

  it("names the field of a JSON value of the wrong type, and the unknown key", () => {
    expect(refusal("PUT", "/things/12", { title: 5 })).toMatchObject({ field: "title" });
    expect(refusal("PUT", "/things/12", { colour: "RED" })).toMatchObject({ field: "colour" });
  });
});

describe("parseJsonBody", () => {
  it("is undefined for no body, the value for JSON, and a RestDecodeError otherwise", () => {
    expect(parseJsonBody("")).toBeUndefined();
    expect(parseJsonBody(" \n")).toBeUndefined();
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
    expect(() => parseJsonBody("{nope")).toThrow(/^request body is not valid JSON: /);
    expect(() => parseJsonBody("[".repeat(200) + "]".repeat(200))).toThrow(RestDecodeError);
    expect(() => parseJsonBody("[".repeat(200) + "]".repeat(200))).toThrow(/request body/);
  });
});

describe("RestDecodeError", () => {
  it("is an InvalidArgumentError that names the field and keeps a cause only when given one", () => {
    const cause = new SyntaxError("x");
    const withCause = new RestDecodeError("bad", "f", cause);
    expect(withCause).toBeInstanceOf(InvalidArgumentError);
    expect([withCause.message, withCause.field, withCause.cause, withCause.code, withCause.name]).toEqual(["bad", "f", cause, "invalid_argument", "RestDecodeError"]);
    const without = new RestDecodeError("bad");
    expect(without.field).toBeUndefined();
    expect(Object.hasOwn(without, "cause")).toBe(false);
  });
});

describe("text-values helpers", () => {
  it("textToJson leaves types without a URL form as text (a map, bytes, a double)", () => {
    expect(textToJson(fieldOf("labels"), "k", "labels")).toBe("k");
    expect(textToJson(fieldOf("blob"), "AQI", "blob")).toBe("AQI");
    expect(textToJson(fieldOf("ratio"), "1e3", "ratio")).toBe("1e3");
    expect(textToJson(fieldOf("when"), "2025-01-01T00:00:00Z", "when")).toBe("2025-01-01T00:00:00Z");
    expect(textToJson(fieldOf("doc"), "{}", "doc")).toBe("{}");
  });

  it("setJsonPath creates, reuses and refuses", () => {
    const json = {};
    const [inner, level] = resolveFieldPath(Everything, "inner.level")!;
    setJsonPath(json, [inner!, level!], 2, "inner.level");
    setJsonPath(json, resolveFieldPath(Everything, "inner.name")!, "n", "inner.name");
    expect(json).toEqual({ inner: { level: 2, name: "n" } });
    expect(() => setJsonPath(json, resolveFieldPath(Everything, "inner.level")!, 3, "lvl")).toThrow(new RestDecodeError("lvl is given more than once", "lvl"));
    expect(() => setJsonPath({ inner: 1 }, resolveFieldPath(Everything, "inner.level")!, 3, "lvl")).toThrow(new RestDecodeError("inner must be an object", "inner"));
  });

  it("isJsonObject is true for objects only", () => {
    expect([{}, { a: 1 }].map(isJsonObject)).toEqual([true, true]);
    expect([null, [], "x", 1, undefined, true].map(isJsonObject)).toEqual([false, false, false, false, false, false]);
  });
});

describe("field paths", () => {
  it("resolve by proto or JSON name through singular messages only", () => {
    expect(resolveFieldPath(Everything, "inner.deeper.name")?.map((f) => f.name)).toEqual(["inner", "deeper", "name"]);
    expect(resolveFieldPath(Everything, "wrappedCount")?.map((f) => f.name)).toEqual(["wrapped_count"]);
    expect(resolveFieldPath(Everything, "wrapped_count")?.map((f) => f.name)).toEqual(["wrapped_count"]);
    for (const path of ["count.x", "inners.name", "tags.length", "labels.key", "inner.nope", "", "inner."]) expect(resolveFieldPath(Everything, path), path).toBeUndefined();
    expect(protoPath(resolveFieldPath(Everything, "inner.deeper.name")!)).toBe("inner.deeper.name");
    expect(protoPath(resolveFieldPath(Everything, "wrappedCount")!)).toBe("wrapped_count");
  });

  it("requireFieldPath throws naming what asked, the path and the message", () => {
    expect(requireFieldPath(Everything, "inner.level", "x").map((f) => f.name)).toEqual(["inner", "level"]);
    expect(() => requireFieldPath(Everything, "inner.nope", "GetThing path")).toThrow(new Error('GetThing path: "inner.nope" is not a field path of codectest.Everything'));
  });

  it("isTextField: scalars, enums, lists of those and of text-like messages, and text-like messages", () => {
    const text = Everything.fields.filter(isTextField).map((f) => f.name);
    expect(text).toEqual([
      "flag", "count", "s32", "u32", "f32", "sf32", "big", "s64", "u64", "f64", "sf64", "ratio", "blob", "color",
      "tags", "nums", "colors", "wrapped_count", "wrapped_flag", "wrapped_counts", "when", "whens", "pick_a", "pick_b", "title", "choice_b",
    ]);
    expect(Inner.fields.filter(isTextField).map((f) => f.name)).toEqual(["name", "level", "choice_a", "choice_b"]);
    expect(isTextField(fieldOf("labels"))).toBe(false);
    expect(isTextField(fieldOf("inner"))).toBe(false);
  });

  it("isTextMessage knows the well-known types whose JSON is a string or a number", () => {
    const known = ["Timestamp", "Duration", "FieldMask", "StringValue", "BytesValue", "BoolValue", "Int32Value", "UInt32Value", "Int64Value", "UInt64Value", "FloatValue", "DoubleValue"];
    for (const name of known) expect(isTextMessage({ typeName: `google.protobuf.${name}` } as never), name).toBe(true);
    for (const name of ["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Any", "codectest.Inner", "Timestamp", "constructor", "toString"]) {
      expect(isTextMessage({ typeName: name } as never), name).toBe(false);
    }
  });
});
