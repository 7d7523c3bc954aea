import { SchemaCollector } from "./json-schema.js";
import type { JsonSchema } from "./json-schema.js";
import { buildOperation, openApiPath } from "./openapi-operation.js";
import type { ProtoComments } from "./proto-comments.js";
import type { RouteTable } from "./route-table.js";

/** What the document says about itself, and the few facts the descriptors do not carry. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  /** Base URL of the API, e.g. "https://chat.example.com"; the document has no `servers` without it. */
  readonly serverUrl?: string;
  /** Methods callable without a token (default: AuthService.SignUp and SignIn). */
  readonly publicMethods?: readonly string[];
  /** Public methods that answer 401 for wrong credentials in the request (default: AuthService.SignIn). */
  readonly credentialMethods?: readonly string[];
  /** Methods that answer 409 when the thing they create exists (default: RoomService.CreateRoom, AuthService.SignUp). */
  readonly conflictMethods?: readonly string[];
  /** Methods that answer 409 when their client_message_id already names another message (default: PostMessage, SendDirectMessage). */
  readonly keyConflictMethods?: readonly string[];
  /** The proto comments, for descriptions (default: none). */
  readonly comments?: ProtoComments;
  /** Name of the session cookie that carries the token as an alternative to the header (default "parley_token"). */
  readonly cookieName?: string;
}

/** The OpenAPI document: a plain JSON-serialisable object. */
export type OpenApiDocument = { readonly openapi: "3.1.0" } & Readonly<Record<string, unknown>>;

const DEFAULT_PUBLIC = ["chat.v1.AuthService.SignUp", "chat.v1.AuthService.SignIn"];
const DEFAULT_CREDENTIALS = ["chat.v1.AuthService.SignIn"];
const DEFAULT_CONFLICT = ["chat.v1.RoomService.CreateRoom", "chat.v1.AuthService.SignUp"];
const DEFAULT_KEY_CONFLICT = ["chat.v1.MessageService.PostMessage", "chat.v1.MessageService.SendDirectMessage"];

/**
 * Generates the OpenAPI 3.1 document of the REST edge from the same route table that serves it, so the two cannot
 * drift: one operation per route, JSON Schemas derived from the message descriptors, the success status of each
 * route, the errors it can return (all sharing the `Error` schema `{code, message}`), and bearer (PASETO) or cookie
 * authentication on every operation that is not public. Pure: the same table and info give the same document.
 */
export function buildOpenApi(table: RouteTable, info: OpenApiInfo): OpenApiDocument {
  const comments = info.comments ?? (() => undefined);
  const schemas = new SchemaCollector(comments);
  const policy = {
    publicMethods: new Set(info.publicMethods ?? DEFAULT_PUBLIC),
    credentialMethods: new Set(info.credentialMethods ?? DEFAULT_CREDENTIALS),
    conflictMethods: new Set(info.conflictMethods ?? DEFAULT_CONFLICT),
    keyConflictMethods: new Set(info.keyConflictMethods ?? DEFAULT_KEY_CONFLICT),
    comments,
  };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of [...table.routes].sort((a, b) => openApiPath(a).localeCompare(openApiPath(b)))) {
    const item = (paths[openApiPath(route)] ??= {});
    item[route.verb.toLowerCase()] = buildOperation(route, schemas, policy);
  }
  const doc: Record<string, unknown> = {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      ...(info.description === undefined ? {} : { description: info.description }),
    },
  };
  if (info.serverUrl !== undefined) doc["servers"] = [{ url: info.serverUrl }];
  doc["security"] = [{ bearerAuth: [] }, { cookieAuth: [] }];
  const services = new Map(table.routes.map((r) => [r.method.parent.name, r.method.parent]));
  doc["tags"] = [...services.keys()].sort().map((name) => {
    const description = comments(services.get(name)!);
    return description === undefined ? { name } : { name, description };
  });
  doc["paths"] = paths;
  doc["components"] = {
    schemas: { ...sortKeys(schemas.components), Error: ERROR_SCHEMA, SubscriptionAccepted: ACCEPTED_SCHEMA },
    responses: RESPONSES,
    securitySchemes: {
      bearerAuth: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "PASETO",
        description: "The access token from POST /auth/signin, as `Authorization: Bearer <token>`.",
      },
      cookieAuth: {
        type: "apiKey",
        in: "cookie",
        name: info.cookieName ?? "parley_token",
        description: "The same access token in a cookie (browsers).",
      },
    },
  };
  return doc as OpenApiDocument;
}

const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    code: { type: "string", description: 'Stable machine-readable code, e.g. "invalid_argument", "not_found".' },
    message: { type: "string", description: "Human-readable explanation." },
  },
  required: ["code", "message"],
};

const errorResponse = (description: string): JsonSchema => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/** The 202 of a subscribe route asked without `Accept: text/event-stream` (sse/subscribe-route.ts). */
const ACCEPTED_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    message: { type: "string" },
    position: { type: "string", description: "The stream's position now: open a stream with `since` set to it to miss nothing from here on." },
    transports: {
      type: "object",
      description: "How to open the stream with each transport: SSE, WebSocket, the multiplexed WebSocket and Connect, each with its URL and what to send.",
      additionalProperties: { type: "object" },
    },
  },
  required: ["message", "position", "transports"],
};

const RESPONSES: Readonly<Record<string, JsonSchema>> = {
  SubscriptionAccepted: {
    description: "Without `Accept: text/event-stream`: the subscription request is valid; where the stream is now and how to open it.",
    headers: { Link: { description: "The SSE stream from this position (rel=alternate).", schema: { type: "string" } } },
    content: { "application/json": { schema: { $ref: "#/components/schemas/SubscriptionAccepted" } } },
  },
  BadRequest: errorResponse("The request is malformed or invalid (bad JSON, unknown field or parameter, failed validation)."),
  Unauthenticated: errorResponse("No valid access token: missing, malformed, expired or signed out."),
  WrongCredentials: errorResponse("The username or the password is wrong (the answer does not say which)."),
  NotFound: errorResponse("The room or user named in the path does not exist."),
  Conflict: errorResponse("The name is already taken (ignoring case)."),
  KeyConflict: errorResponse("The clientMessageId was already used for a different message (another room, recipient or text)."),
  PayloadTooLarge: errorResponse("The body is larger than the server accepts (MAX_BODY_BYTES)."),
  UnsupportedMediaType: errorResponse("The body is not JSON (send Content-Type: application/json)."),
  TooManyRequests: errorResponse("Rate limit exceeded; retry later (see Retry-After)."),
};

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
