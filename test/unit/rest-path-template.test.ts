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
});
