import { create } from "@bufbuild/protobuf";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { ListMessagesResponseSchema, MessageService } from "../../gen/chat/v1/message_pb.js";
import { CreateRoomResponseSchema, RoomService } from "../../gen/chat/v1/room_pb.js";
import { buildOpenApi } from "../../src/edges/rest/openapi.js";
import { loadProtoComments } from "../../src/edges/rest/proto-comments.js";
import { encodeRestResponse } from "../../src/edges/rest/request-codec.js";
import { buildRouteTable } from "../../src/edges/rest/route-table.js";
import type { RestRoute } from "../../src/edges/rest/route-table.js";

const table = buildRouteTable([AuthService, RoomService, MessageService]);
const doc = buildOpenApi(table, { title: "Parley", version: "1.0.0", serverUrl: "http://localhost:8080", comments: loadProtoComments() });

type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; security?: unknown[] };
const paths = doc["paths"] as Record<string, Record<string, Operation>>;
const op = (path: string, verb: string): Operation => {
  const found = paths[path]?.[verb];
  if (found === undefined) throw new Error(`no ${verb} ${path}`);
  return found;
};

describe("buildOpenApi", () => {
  it("produces a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(structuredClone(doc) as Record<string, unknown>);
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2));
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it.each([
    ["/rooms", "get", ["200", "400", "401", "429"]],
    ["/rooms", "post", ["201", "400", "401", "409", "413", "415", "429"]],
    ["/rooms/{room_id}", "get", ["200", "400", "401", "404", "429"]],
    ["/room/{room_id}/messages", "get", ["200", "400", "401", "404", "429"]],
    ["/room/{room_id}/messages", "post", ["201", "400", "401", "404", "409", "413", "415", "429"]],
    ["/room/{room_id}/subscribe", "get", ["200", "202", "400", "401", "404", "429"]],
    ["/auth/signup", "post", ["201", "400", "409", "413", "415", "429"]],
    ["/auth/signin", "post", ["200", "400", "401", "413", "415", "429"]],
    ["/auth/signout", "post", ["204", "400", "401", "413", "415", "429"]],
    ["/auth/ticket", "post", ["200", "400", "401", "413", "415", "429"]],
    ["/me", "get", ["200", "400", "401", "429"]],
    ["/users/{recipient_username}/messages", "post", ["201", "400", "401", "404", "409", "413", "415", "429"]],
    ["/me/messages", "get", ["200", "400", "401", "429"]],
    ["/me/subscribe", "get", ["200", "202", "400", "401", "429"]],
    ["/rooms/{room_id}/read", "post", ["200", "400", "401", "404", "413", "415", "429"]],
    ["/me/messages/{with_user_id}/read", "post", ["200", "400", "401", "404", "413", "415", "429"]],
    ["/rooms/{room_id}/typing", "post", ["204", "400", "401", "404", "413", "415", "429"]],
    ["/me/messages/{with_user_id}/typing", "post", ["204", "400", "401", "404", "413", "415", "429"]],
    ["/rooms/watch", "get", ["200", "202", "400", "401", "429"]],
  ])("documents %s %s with statuses %j", (path, verb, statuses) => {
    expect(Object.keys(op(path, verb).responses).sort()).toEqual(statuses);
  });

  it("has exactly the routes of the table", () => {
    const count = Object.values(paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(count).toBe(table.routes.length);
  });

  it("documents streaming routes as text/event-stream and 204 without content", () => {
    expect(Object.keys(op("/me/subscribe", "get").responses["200"]?.content ?? {})).toEqual(["text/event-stream"]);
    expect(Object.keys(op("/rooms/watch", "get").responses["200"]?.content ?? {})).toEqual(["text/event-stream"]);
    expect(op("/auth/signout", "post").responses["204"]?.content).toBeUndefined();
  });

  it("marks sign-up and sign-in public and declares bearer and cookie schemes", () => {
    expect(op("/auth/signin", "post").security).toEqual([]);
    expect(op("/rooms", "get").security).toBeUndefined();
    const schemes = (doc["components"] as { securitySchemes: Record<string, { type: string }> }).securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(["bearerAuth", "cookieAuth"]);
  });

  it("documents a subscribe route's 202 answer and sign-in's 401 for wrong credentials", () => {
    const responses = (doc["components"] as { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }).responses;
    expect(op("/room/{room_id}/subscribe", "get").responses["202"]).toEqual({ $ref: "#/components/responses/SubscriptionAccepted" });
    expect(responses["SubscriptionAccepted"]?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/SubscriptionAccepted" });
    expect(op("/auth/signin", "post").responses["401"]).toEqual({ $ref: "#/components/responses/WrongCredentials" });
  });

  it("describes operations, parameters, schemas and tags with the proto comments", () => {
    type Described = { description?: string; parameters?: Array<{ name: string; description?: string }> };
    const post = op("/room/{room_id}/messages", "post") as unknown as Described;
    expect(post.description).toBe("Posts to a room; any signed-in user may post to any room. NOT_FOUND when the room does not exist.");
    const list = op("/room/{room_id}/messages", "get") as unknown as Described;
    expect(list.description).toBe("Lists a room's messages, newest first.");
    expect(list.parameters?.find((p) => p.name === "before")?.description).toBe("Only messages older than this message id.");
    const body = (post as unknown as { requestBody: { content: { "application/json": { schema: { properties: Record<string, { description?: string }> } } } } }).requestBody;
    expect(body.content["application/json"].schema.properties["clientMessageId"]?.description).toMatch(/^Optional idempotency key/);
    const schemas = (doc["components"] as { schemas: Record<string, { description?: string }> }).schemas;
    expect(schemas["chat.v1.Message"]?.description).toBeTruthy();
    expect((doc["tags"] as Array<{ name: string; description?: string }>).find((t) => t.name === "RoomService")?.description).toBe("Chat rooms: list, create, look up, watch the list live.");
    // Every operation has a description: every RPC in the proto has a comment.
    for (const [path, item] of Object.entries(paths)) {
      for (const [verb, operation] of Object.entries(item)) expect((operation as unknown as Described).description, `${verb} ${path}`).toBeTruthy();
    }
  });

  it("documents query parameters with aliases, and the body without path fields", () => {
    const list = paths["/me/messages"]?.["get"] as unknown as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name).sort()).toEqual(["after", "before", "limit", "pageSize", "with", "withUserId"]);
    const dm = paths["/users/{recipient_username}/messages"]?.["post"] as unknown as {
      requestBody: { content: { "application/json": { schema: { properties: Record<string, unknown> } } } };
    };
    expect(Object.keys(dm.requestBody.content["application/json"].schema.properties).sort()).toEqual(["clientMessageId", "text"]);
  });

  it("describes what encodeRestResponse actually sends", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "doc", components: doc["components"] }, "doc");
    const check = (path: string, verb: string, status: string, body: unknown): void => {
      const schema = op(path, verb).responses[status]?.content?.["application/json"]?.schema;
      const validate = ajv.compile(rebase(schema));
      if (!validate(body)) console.error(validate.errors);
      expect(validate(body)).toBe(true);
    };
    const room = { roomId: "1", name: "a", createdBy: "2", createdAt: { seconds: 1n, nanos: 0 } };
    const created = encodeRestResponse(routeFor("POST", "/rooms"), create(CreateRoomResponseSchema, { room }));
    check("/rooms", "post", "201", created.body);
    const message = { messageId: "3", target: { case: "roomId" as const, value: "1" }, text: "hi", sender: { userId: "2" } };
    const route = routeFor("GET", "/room/1/messages");
    check("/room/{room_id}/messages", "get", "200", encodeRestResponse(route, create(ListMessagesResponseSchema, { messages: [message] })).body);
  });
});

function routeFor(verb: string, path: string): RestRoute {
  const m = table.match(verb, path);
  if ("error" in m) throw new Error(`${verb} ${path}: ${m.error}`);
  return m.route;
}

/** Points the document's "#/components/…" references at the schema registered as "doc". */
function rebase(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Record<string, unknown>;
}
