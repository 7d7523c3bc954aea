import { create } from "@bufbuild/protobuf";
import type { DescService, Message } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AuthService, SignOutResponseSchema } from "../../gen/chat/v1/auth_pb.js";
import { MessageService, PostMessageResponseSchema } from "../../gen/chat/v1/message_pb.js";
import { CreateRoomResponseSchema, ListRoomsResponseSchema, RoomService } from "../../gen/chat/v1/room_pb.js";
import { RoomSchema } from "../../gen/chat/v1/types_pb.js";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { decodeRestRequest, encodeRestResponse, parseJsonBody, RestDecodeError } from "../../src/edges/rest/request-codec.js";
import { buildRouteTable } from "../../src/edges/rest/route-table.js";
import type { RestRoute } from "../../src/edges/rest/route-table.js";

const table = buildRouteTable([AuthService, RoomService, MessageService]);

function routeOf(verb: string, path: string): { route: RestRoute; pathParams: Readonly<Record<string, string>> } {
  const m = table.match(verb, path);
  if ("error" in m) throw new Error(`${verb} ${path}: ${m.error}`);
  return m;
}

function decode(verb: string, pathAndQuery: string, body?: unknown): Message & Record<string, unknown> {
  const url = new URL(pathAndQuery, "http://x");
  const { route, pathParams } = routeOf(verb, url.pathname);
  return decodeRestRequest(route, pathParams, url.searchParams, body) as Message & Record<string, unknown>;
}

function decodeError(verb: string, pathAndQuery: string, body?: unknown): RestDecodeError {
  try {
    decode(verb, pathAndQuery, body);
  } catch (e) {
    if (e instanceof RestDecodeError) return e;
    throw e;
  }
  throw new Error("expected a RestDecodeError");
}

describe("route table", () => {
  it.each([
    ["GET", "/rooms", RoomService, "ListRooms", {}, false, 200],
    ["POST", "/rooms", RoomService, "CreateRoom", {}, false, 201],
    ["GET", "/rooms/42", RoomService, "GetRoom", { room_id: "42" }, false, 200],
    ["GET", "/room/42/messages", MessageService, "ListMessages", { room_id: "42" }, false, 200],
    ["POST", "/room/42/messages", MessageService, "PostMessage", { room_id: "42" }, false, 201],
    ["GET", "/room/42/subscribe", MessageService, "SubscribeRoom", { room_id: "42" }, true, 200],
    ["POST", "/auth/signup", AuthService, "SignUp", {}, false, 201],
    ["POST", "/auth/signin", AuthService, "SignIn", {}, false, 200],
    ["POST", "/auth/signout", AuthService, "SignOut", {}, false, 204],
    ["POST", "/auth/ticket", AuthService, "CreateStreamTicket", {}, false, 200],
    ["GET", "/me", AuthService, "GetMe", {}, false, 200],
    ["POST", "/users/bob/messages", MessageService, "SendDirectMessage", { recipient_username: "bob" }, false, 201],
    ["GET", "/me/messages", MessageService, "ListDirectMessages", {}, false, 200],
    ["GET", "/me/subscribe", MessageService, "SubscribeDirectMessages", {}, true, 200],
    ["POST", "/rooms/42/read", MessageService, "MarkRoomRead", { room_id: "42" }, false, 200],
    ["POST", "/me/messages/7/read", MessageService, "MarkDirectMessagesRead", { with_user_id: "7" }, false, 200],
    ["POST", "/rooms/42/typing", MessageService, "SetTyping", { room_id: "42" }, false, 204],
    ["POST", "/me/messages/7/typing", MessageService, "SetDirectTyping", { with_user_id: "7" }, false, 204],
    // The literal wins over GET /rooms/{room_id}: "watch" is no room id.
    ["GET", "/rooms/watch", RoomService, "WatchRooms", {}, true, 200],
  ] as const)("%s %s → %s.%s", (verb, path, service: DescService, name, params, streaming, status) => {
    const { route, pathParams } = routeOf(verb, path);
    expect(route.method.parent).toBe(service);
    expect(route.method.name).toBe(name);
    expect(pathParams).toEqual(params);
    expect(route.streaming).toBe(streaming);
    expect(route.successStatus).toBe(status);
  });

  it("answers 405 with the allowed verbs when only the verb is wrong", () => {
    expect(table.match("DELETE", "/rooms")).toEqual({ error: "method_not_allowed", allow: ["GET", "POST"] });
    expect(table.match("PUT", "/rooms/1")).toEqual({ error: "method_not_allowed", allow: ["GET"] });
    expect(table.match("GET", "/auth/signin")).toEqual({ error: "method_not_allowed", allow: ["POST"] });
  });

  it.each(["/nope", "/rooms/", "//rooms", "/rooms//", "/rooms/1/extra", "/room/1", "rooms", "", "/", "/ROOMS"])(
    "does not find %j (strict: no slash normalisation)",
    (path) => expect(table.match("GET", path)).toEqual({ error: "not_found" }),
  );

  it("records body, response_body, location and aliases from the annotations", () => {
    const create = routeOf("POST", "/rooms").route;
    expect(create.body.kind).toBe("all");
    expect(create.responseBody?.name).toBe("room");
    expect(create.location).toBe("/rooms/{room.room_id}");
    expect(routeOf("GET", "/rooms").route.body.kind).toBe("none");
    expect(Object.fromEntries(routeOf("GET", "/me/messages").route.queryAliases)).toEqual({
      limit: "page_size",
      with: "with_user_id",
    });
  });
});

describe("decodeRestRequest", () => {
  it("merges path, body and query into the request", () => {
    expect(decode("POST", "/room/42/messages", { text: "hi", clientMessageId: "k1" })).toMatchObject({
      roomId: "42",
      text: "hi",
      clientMessageId: "k1",
    });
    expect(decode("GET", "/room/42/messages?before=9&after=3&limit=20")).toMatchObject({
      roomId: "42",
      before: "9",
      after: "3",
      pageSize: 20,
    });
    expect(decode("GET", "/me/messages?with=7&page_size=5")).toMatchObject({ withUserId: "7", pageSize: 5 });
    expect(decode("GET", "/rooms?pageToken=abc")).toMatchObject({ pageToken: "abc" });
    expect(decode("POST", "/auth/signout")).toMatchObject({});
  });

  it("puts a path variable into its oneof member", () => {
    const req = decode("POST", "/users/b%C3%B6b/messages", { text: "yo" });
    expect(req["recipient"]).toEqual({ case: "recipientUsername", value: "böb" });
    expect(decodeError("POST", "/users/bob/messages", { text: "yo", recipientUserId: "1" }).field).toBe("recipientUserId");
  });

  it.each([
    ["/rooms/1%2F2", "room_id"],
    ["/rooms/1%00", "room_id"],
    ["/rooms/%E0%A4%A", "room_id"],
  ])("refuses the path parameter in %s", (path, field) => {
    expect(decodeError("GET", path).field).toBe(field);
  });

  it.each([
    ["unknown body field", "POST", "/rooms", { name: "a", owner: "me" }, "owner"],
    ["wrong JSON type", "POST", "/rooms", { name: 5 }, "name"],
    ["body that is not an object", "POST", "/rooms", ["a"], undefined],
    ["body on a route without one", "GET", "/rooms", { name: "a" }, undefined],
    ["path field repeated in the body", "POST", "/room/4/messages", { roomId: "5", text: "x" }, "room_id"],
  ])("refuses a %s", (_, verb, path, body, field) => {
    expect(decodeError(verb, path, body).field).toBe(field);
  });

  it.each([
    ["/rooms?color=red", "color"],
    ["/rooms?limit=ten", "limit"],
    ["/rooms?limit=1&limit=2", "limit"],
    ["/rooms?limit=1&pageSize=2", "pageSize"],
    ["/room/4/messages?roomId=5", "roomId"],
    ["/me?x=1", "x"],
  ])("refuses the query in %s", (path, field) => {
    expect(decodeError("GET", path).field).toBe(field);
  });

  it("refuses query parameters on a route whose body takes every field", () => {
    expect(decodeError("POST", "/rooms?name=a", {}).message).toMatch(/JSON body/);
  });

  it("reports malformed JSON as a RestDecodeError, and an empty body as no body", () => {
    expect(() => parseJsonBody("{nope")).toThrow(RestDecodeError);
    const error = decodeError("GET", "/rooms?color=red");
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect([error.name, error.code, error.message]).toEqual(["RestDecodeError", "invalid_argument", "unknown query parameter color"]);
    expect(parseJsonBody("  ")).toBeUndefined();
    expect(parseJsonBody('{"name":"a"}')).toEqual({ name: "a" });
  });
});

describe("encodeRestResponse", () => {
  it("answers an empty list as []", () => {
    const out = encodeRestResponse(routeOf("GET", "/rooms").route, create(ListRoomsResponseSchema, {}));
    expect(out).toEqual({ status: 200, body: [], headers: {} });
  });

  it("moves a next_page_token that response_body drops into a header", () => {
    const res = create(ListRoomsResponseSchema, { rooms: [create(RoomSchema, { roomId: "1", name: "a" })], nextPageToken: "t" });
    const out = encodeRestResponse(routeOf("GET", "/rooms").route, res);
    expect(out.body).toEqual([{ roomId: "1", name: "a", createdBy: "" }]);
    expect(out.headers).toEqual({ "X-Next-Page-Token": "t" });
  });

  it("fills Location and picks response_body on create", () => {
    const room = create(RoomSchema, { roomId: "42", name: "général", createdAt: { seconds: 0n, nanos: 0 } });
    const out = encodeRestResponse(routeOf("POST", "/rooms").route, create(CreateRoomResponseSchema, { room }));
    expect(out).toEqual({
      status: 201,
      body: { roomId: "42", name: "général", createdBy: "", createdAt: "1970-01-01T00:00:00Z" },
      location: "/rooms/42",
      headers: {},
    });
  });

  it("leaves Location out when its field is empty, and the body out on 204", () => {
    expect(encodeRestResponse(routeOf("POST", "/rooms").route, create(CreateRoomResponseSchema, {})).location).toBeUndefined();
    expect(encodeRestResponse(routeOf("POST", "/auth/signout").route, create(SignOutResponseSchema, {}))).toEqual({
      status: 204,
      body: undefined,
      headers: {},
    });
  });

  it("encodes a posted message with its oneof target", () => {
    const message = { messageId: "9", target: { case: "roomId" as const, value: "4" }, text: "hi" };
    const out = encodeRestResponse(routeOf("POST", "/room/4/messages").route, create(PostMessageResponseSchema, { message }));
    expect(out.body).toMatchObject({ messageId: "9", roomId: "4", text: "hi" });
  });
});

describe("buildRouteTable", () => {
  it("derives routes from annotations only: a service without them adds none", () => {
    expect(table.routes).toHaveLength(20);
    expect(buildRouteTable([]).match("GET", "/rooms")).toEqual({ error: "not_found" });
  });
});
