import { describe, expect, it } from "vitest";
import { compareSpecificity, matchPathTemplate, parsePathTemplate } from "../../src/edges/rest/path-template.js";

const segs = (path: string): string[] => path.slice(1).split("/");

describe("path templates", () => {
  it("binds single-segment variables and matches literals exactly", () => {
    const t = parsePathTemplate("/room/{room_id}/messages");
    expect(matchPathTemplate(t, segs("/room/42/messages"))).toEqual({ room_id: "42" });
    expect(matchPathTemplate(t, segs("/room/42/message"))).toBeUndefined();
    expect(matchPathTemplate(t, segs("/room/42"))).toBeUndefined();
  });

  it("binds multi-segment variables, ** and nested field paths", () => {
    expect(matchPathTemplate(parsePathTemplate("/v1/{name=rooms/*}"), segs("/v1/rooms/7"))).toEqual({ name: "rooms/7" });
    expect(matchPathTemplate(parsePathTemplate("/v1/{name=rooms/*}"), segs("/v1/users/7"))).toBeUndefined();
    expect(matchPathTemplate(parsePathTemplate("/files/{path=**}"), segs("/files/a/b/c"))).toEqual({ path: "a/b/c" });
    expect(matchPathTemplate(parsePathTemplate("/r/{room.room_id}"), segs("/r/9"))).toEqual({ "room.room_id": "9" });
  });

  it("matches a custom verb", () => {
    const t = parsePathTemplate("/rooms/{room_id}:archive");
    expect(t.verb).toBe("archive");
    expect(matchPathTemplate(t, segs("/rooms/5:archive"))).toEqual({ room_id: "5" });
    expect(matchPathTemplate(t, segs("/rooms/5"))).toBeUndefined();
    expect(matchPathTemplate(t, segs("/rooms/:archive"))).toBeUndefined();
  });

  it.each(["rooms", "/rooms//x", "/rooms/", "/{a/b", "/{a{b}}", "/**/x", "/{1x}", "/{a}/{a}", "/a b"])(
    "refuses the malformed template %j",
    (source) => expect(() => parsePathTemplate(source)).toThrow(/invalid path template/),
  );

  it("orders literals before variables before **", () => {
    const sorted = ["/rooms/{id}", "/rooms/**", "/rooms/search"].map(parsePathTemplate).sort(compareSpecificity);
    expect(sorted.map((t) => t.source)).toEqual(["/rooms/search", "/rooms/{id}", "/rooms/**"]);
  });

  it("parses into segments, variables with their segment ranges, and the verb", () => {
    expect(parsePathTemplate("/v1/{name=rooms/*}/x/{b.c}:do")).toEqual({
      source: "/v1/{name=rooms/*}/x/{b.c}:do",
      segments: [{ kind: "literal", value: "v1" }, { kind: "literal", value: "rooms" }, { kind: "single" }, { kind: "literal", value: "x" }, { kind: "single" }],
      variables: [
        { fieldPath: "name", start: 1, end: 3 },
        { fieldPath: "b.c", start: 4, end: 5 },
      ],
      verb: "do",
    });
    expect(parsePathTemplate("/files/{path=**}")).toEqual({
      source: "/files/{path=**}",
      segments: [{ kind: "literal", value: "files" }, { kind: "rest" }],
      variables: [{ fieldPath: "path", start: 1, end: 2 }],
      verb: undefined,
    });
    expect(parsePathTemplate("/a/*/**").segments).toEqual([{ kind: "literal", value: "a" }, { kind: "single" }, { kind: "rest" }]);
    expect(parsePathTemplate("/{a}/b:c-d.e~f").verb).toBe("c-d.e~f");
    expect(parsePathTemplate("/v1/{name=rooms/*}:archive").verb).toBe("archive");
  });

  it.each([
    ["rooms", "must start with /"],
    ["/rooms//x", "empty segment"],
    ["/rooms/", "empty segment"],
    ["/:verb", "empty segment"],
    ["/{a/b", "unbalanced braces"],
    ["/{a", "unbalanced braces"],
    ["/{a{b}}", "nested or unbalanced braces"],
    ["/{a}}", "nested or unbalanced braces"],
    ["/**/x", "** must be the last segment"],
    ["/{a=**}/x", "** must be the last segment"],
    ["/{1x}", 'bad field path "1x"'],
    ["/{a.1b}", 'bad field path "a.1b"'],
    ["/{=a}", 'bad field path ""'],
    ["/x/{a:b}", 'bad field path "a:b"'],
    ["/{a}/{a}", "a field is bound twice"],
    ["/a b", 'bad segment "a b"'],
    ["/a:b/c", 'bad segment "a:b"'],
    ["/{a=}", 'bad segment ""'],
    ["/a:", 'bad verb ""'],
    ["/a/b:c d", 'bad verb "c d"'],
    ["/{a}b", "unterminated variable {a}b"],
  ])("refuses %j: %s", (source, why) => {
    expect(() => parsePathTemplate(source)).toThrow(new Error(`invalid path template "${source}": ${why}`));
  });

  it("matches ** against zero or more trailing segments, and nothing shorter", () => {
    const t = parsePathTemplate("/files/{path=**}");
    expect(matchPathTemplate(t, ["files"])).toEqual({ path: "" });
    expect(matchPathTemplate(t, ["files", "a"])).toEqual({ path: "a" });
    expect(matchPathTemplate(t, [])).toBeUndefined();
    expect(matchPathTemplate(t, ["other", "a"])).toBeUndefined();
    expect(matchPathTemplate(parsePathTemplate("/v1/{name=rooms/**}"), ["v1", "rooms", "a", "b"])).toEqual({ name: "rooms/a/b" });
  });

  it("refuses a path too short for the segments before **, even when only variables come first", () => {
    const t = parsePathTemplate("/{a}/{b}/**");
    expect(matchPathTemplate(t, ["x"])).toBeUndefined();
    expect(matchPathTemplate(t, ["x", "y"])).toEqual({ a: "x", b: "y" });
  });

  it("binds a variable before ** to its own segments only", () => {
    const t = parsePathTemplate("/{a}/files/**");
    expect(matchPathTemplate(t, ["1", "files", "x", "y"])).toEqual({ a: "1" });
    expect(matchPathTemplate(t, ["1", "files"])).toEqual({ a: "1" });
    expect(matchPathTemplate(t, ["1", "file", "x"])).toBeUndefined();
  });

  it("binds nothing for a template without variables, and needs exactly its segments", () => {
    const t = parsePathTemplate("/rooms/search");
    expect(matchPathTemplate(t, ["rooms", "search"])).toEqual({});
    expect(matchPathTemplate(t, ["rooms", "search", "x"])).toBeUndefined();
    expect(matchPathTemplate(t, ["rooms"])).toBeUndefined();
  });

  it("strips the verb from the last segment only when it is a whole suffix after a non-empty segment", () => {
    const t = parsePathTemplate("/rooms/{room_id}:archive");
    expect(matchPathTemplate(t, ["rooms", "5:archive"])).toEqual({ room_id: "5" });
    expect(matchPathTemplate(t, ["rooms", "a:b:archive"])).toEqual({ room_id: "a:b" });
    expect(matchPathTemplate(t, ["rooms", "5archive"])).toBeUndefined();
    expect(matchPathTemplate(t, ["rooms", "5:archived"])).toBeUndefined();
    expect(matchPathTemplate(t, ["rooms", ":archive"])).toBeUndefined();
    expect(matchPathTemplate(t, [])).toBeUndefined();
    expect(matchPathTemplate(parsePathTemplate("/rooms:search"), ["rooms:search"])).toEqual({});
    expect(matchPathTemplate(parsePathTemplate("/rooms/{room_id}"), ["rooms", "5:archive"])).toEqual({ room_id: "5:archive" });
  });

  it("compares literals byte for byte (still percent-encoded, case-sensitive)", () => {
    const t = parsePathTemplate("/rooms/{id}");
    expect(matchPathTemplate(t, ["Rooms", "1"])).toBeUndefined();
    expect(matchPathTemplate(t, ["room%73", "1"])).toBeUndefined();
    expect(matchPathTemplate(t, ["rooms", "a%2Fb"])).toEqual({ id: "a%2Fb" });
  });

  it("ranks literal < * < ** < nothing at the first difference, then a verb first; equal templates tie", () => {
    const p = parsePathTemplate;
    const sign = (a: string, b: string): number => Math.sign(compareSpecificity(p(a), p(b)));
    expect(sign("/rooms/search", "/rooms/{id}")).toBe(-1);
    expect(sign("/rooms/{id}", "/rooms/search")).toBe(1);
    expect(sign("/rooms/{id}", "/rooms/**")).toBe(-1);
    expect(sign("/rooms/**", "/rooms/{id}")).toBe(1);
    expect(sign("/rooms/search", "/rooms/**")).toBe(-1);
    expect(sign("/rooms/{id}", "/rooms")).toBe(-1);
    expect(sign("/rooms", "/rooms/{id}")).toBe(1);
    expect(sign("/rooms/**", "/rooms")).toBe(-1);
    expect(sign("/a/{x}/b", "/a/{y}/{z}")).toBe(-1);
    expect(compareSpecificity(p("/rooms/{id}:archive"), p("/rooms/{id}"))).toBe(-1);
    expect(compareSpecificity(p("/rooms/{id}"), p("/rooms/{id}:archive"))).toBe(1);
    expect(compareSpecificity(p("/rooms/{id}:archive"), p("/rooms/{x}:close"))).toBe(0);
    expect(compareSpecificity(p("/rooms/{id}"), p("/rooms/{x}"))).toBe(0);
  });
});
