import { SchemaCollector } from "./json-schema.js";
import type { JsonSchema } from "./json-schema.js";
import { buildOperation, openApiPath } from "./openapi-operation.js";
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
  /** Methods that answer 409 when the thing they create exists (default: RoomService.CreateRoom, AuthService.SignUp). */
  readonly conflictMethods?: readonly string[];
  /** Methods that answer 409 when their client_message_id already names another message (default: PostMessage, SendDirectMessage). */
  readonly keyConflictMethods?: readonly string[];
  /** Name of the session cookie that carries the token as an alternative to the header (default "parley_token"). */
  readonly cookieName?: string;
}

/** The OpenAPI document: a plain JSON-serialisable object. */
export type OpenApiDocument = { readonly openapi: "3.1.0" } & Readonly<Record<string, unknown>>;

const DEFAULT_PUBLIC = ["chat.v1.AuthService.SignUp", "chat.v1.AuthService.SignIn"];
const DEFAULT_CONFLICT = ["chat.v1.RoomService.CreateRoom", "chat.v1.AuthService.SignUp"];
const DEFAULT_KEY_CONFLICT = ["chat.v1.MessageService.PostMessage", "chat.v1.MessageService.SendDirectMessage"];

/**
 * Generates the OpenAPI 3.1 document of the REST edge from the same route table that serves it, so the two cannot
 * drift: one operation per route, JSON Schemas derived from the message descriptors, the success status of each
 * route, the errors it can return (all sharing the `Error` schema `{code, message}`), and bearer (PASETO) or cookie
 * authentication on every operation that is not public. Pure: the same table and info give the same document.
 */
export function buildOpenApi(table: RouteTable, info: OpenApiInfo): OpenApiDocument {
  const schemas = new SchemaCollector();
  const policy = {
    publicMethods: new Set(info.publicMethods ?? DEFAULT_PUBLIC),
    conflictMethods: new Set(info.conflictMethods ?? DEFAULT_CONFLICT),
    keyConflictMethods: new Set(info.keyConflictMethods ?? DEFAULT_KEY_CONFLICT),
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
  doc["tags"] = [...new Set(table.routes.map((r) => r.method.parent.name))].sort().map((name) => ({ name }));
  doc["paths"] = paths;
  doc["components"] = {
    schemas: { ...sortKeys(schemas.components), Error: ERROR_SCHEMA },
    responses: ERROR_RESPONSES,
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

const ERROR_RESPONSES: Readonly<Record<string, JsonSchema>> = {
  BadRequest: errorResponse("The request is malformed or invalid (bad JSON, unknown field or parameter, failed validation)."),
  Unauthenticated: errorResponse("No valid access token: missing, malformed, expired or signed out."),
  NotFound: errorResponse("The room or user named in the path does not exist."),
  Conflict: errorResponse("The name is already taken (ignoring case)."),
  KeyConflict: errorResponse("The clientMessageId was already used for a different message (another room, recipient or text)."),
  TooManyRequests: errorResponse("Rate limit exceeded; retry later (see Retry-After)."),
};

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
