import type { DescField } from "@bufbuild/protobuf";
import { isTextField } from "./field-path.js";
import type { JsonSchema, SchemaCollector } from "./json-schema.js";
import type { ProtoComments } from "./proto-comments.js";
import type { RestRoute } from "./route-table.js";

/** Which error statuses an operation documents, beside 400 and 429 (which every route can return), and its descriptions. */
export interface ErrorPolicy {
  /** Full method names ("chat.v1.AuthService.SignIn") callable without a token: no 401, no security. */
  readonly publicMethods: ReadonlySet<string>;
  /** Public methods that check credentials sent in the request: 401 when they are wrong. */
  readonly credentialMethods: ReadonlySet<string>;
  /** Full method names that answer 409 when the thing they create already exists. */
  readonly conflictMethods: ReadonlySet<string>;
  /** Full method names that answer 409 when their idempotency key already names another message. */
  readonly keyConflictMethods: ReadonlySet<string>;
  /** The proto comments: operation and parameter descriptions. */
  readonly comments: ProtoComments;
}

/** The OpenAPI path key of a template: "/room/{room_id}/messages"; a custom verb stays as ":verb". */
export function openApiPath(route: RestRoute): string {
  const t = route.template;
  const parts: string[] = [];
  let anonymous = 0;
  for (let i = 0; i < t.segments.length; i++) {
    const v = t.variables.find((x) => x.start === i);
    if (v !== undefined) {
      parts.push(`{${v.fieldPath}}`);
      i = v.end - 1;
      continue;
    }
    const s = t.segments[i];
    parts.push(s?.kind === "literal" ? s.value : `{_${++anonymous}}`);
  }
  return `/${parts.join("/")}${t.verb === undefined ? "" : `:${t.verb}`}`;
}

/**
 * The OpenAPI operation object of a route: parameters (path variables, then query fields and their aliases for
 * routes that take them), request body, the success response (JSON, 204 without content, or `text/event-stream` for
 * streaming routes) and the error responses the route can return, as `$ref`s to components/responses.
 */
export function buildOperation(route: RestRoute, schemas: SchemaCollector, policy: ErrorPolicy): JsonSchema {
  const full = `${route.method.parent.typeName}.${route.method.name}`;
  const op: JsonSchema = {
    operationId: `${route.method.parent.name}_${route.method.name}`,
    tags: [route.method.parent.name],
    summary: `${route.method.parent.name}.${route.method.name}`,
    parameters: [...pathParameters(route, schemas, policy.comments), ...queryParameters(route, schemas, policy.comments)],
  };
  const description = policy.comments(route.method);
  if (description !== undefined) op["description"] = description;
  const body = requestBody(route, schemas);
  if (body !== undefined) op["requestBody"] = body;
  const responses: Record<string, unknown> = { [String(route.successStatus)]: successResponse(route, schemas) };
  // Without Accept: text/event-stream (and no Upgrade), a subscribe route answers 202: where the stream is, and how to open it.
  if (route.streaming) responses["202"] = { $ref: "#/components/responses/SubscriptionAccepted" };
  responses["400"] = { $ref: "#/components/responses/BadRequest" };
  if (!policy.publicMethods.has(full) || policy.credentialMethods.has(full)) {
    responses["401"] = { $ref: `#/components/responses/${policy.credentialMethods.has(full) ? "WrongCredentials" : "Unauthenticated"}` };
  }
  if (route.template.variables.length > 0) responses["404"] = { $ref: "#/components/responses/NotFound" };
  if (policy.conflictMethods.has(full)) responses["409"] = { $ref: "#/components/responses/Conflict" };
  if (policy.keyConflictMethods.has(full)) responses["409"] = { $ref: "#/components/responses/KeyConflict" };
  if (body !== undefined) {
    responses["413"] = { $ref: "#/components/responses/PayloadTooLarge" };
    responses["415"] = { $ref: "#/components/responses/UnsupportedMediaType" };
  }
  responses["429"] = { $ref: "#/components/responses/TooManyRequests" };
  op["responses"] = responses;
  if (policy.publicMethods.has(full)) op["security"] = [];
  return op;
}

function pathParameters(route: RestRoute, schemas: SchemaCollector, comments: ProtoComments): JsonSchema[] {
  return [...route.pathFields].map(([path, fields]) => {
    const field = fields[fields.length - 1] as DescField;
    return described({ name: path, in: "path", required: true, schema: schemas.field(field) }, comments(field));
  });
}

/** `parameter` with `description` first, when there is one. */
function described(parameter: JsonSchema, description: string | undefined): JsonSchema {
  if (description === undefined) return parameter;
  const { name, in: where, ...rest } = parameter;
  return { name, in: where, description, ...rest };
}

function queryParameters(route: RestRoute, schemas: SchemaCollector, comments: ProtoComments): JsonSchema[] {
  if (route.body.kind === "all") return [];
  const bodyField = route.body.kind === "field" ? route.body.field : undefined;
  const params: JsonSchema[] = [];
  for (const f of route.method.input.fields) {
    if (f === bodyField || route.pathFields.has(f.name) || !isTextField(f)) continue;
    if (f.oneof !== undefined && [...route.pathFields.values()].some((p) => p[0]?.oneof === f.oneof)) continue;
    const schema = schemas.field(f);
    params.push(described({ name: f.jsonName, in: "query", required: false, schema }, comments(f)));
    for (const [alias, target] of route.queryAliases) {
      if (target === f.name) {
        params.push({ name: alias, in: "query", required: false, description: `Same as ${f.jsonName}.`, schema });
      }
    }
  }
  return params;
}

function requestBody(route: RestRoute, schemas: SchemaCollector): JsonSchema | undefined {
  let schema: JsonSchema;
  switch (route.body.kind) {
    case "none":
      return undefined;
    case "field":
      schema = schemas.field(route.body.field);
      break;
    case "all": {
      const fromPath = new Set([...route.pathFields.values()].flatMap((p) => (p.length === 1 ? p : [])));
      schema = fromPath.size === 0 ? schemas.ref(route.method.input) : schemas.object(route.method.input, fromPath);
      break;
    }
  }
  const required = route.body.kind === "field" || route.method.input.fields.some((f) => !route.pathFields.has(f.name));
  return { required, content: { "application/json": { schema } } };
}

function successResponse(route: RestRoute, schemas: SchemaCollector): JsonSchema {
  if (route.streaming) {
    return {
      description:
        "A stream of response frames as Server-Sent Events: each `data:` line is one frame in proto3 JSON. " +
        "A WebSocket upgrade on the same URL is also accepted (one JSON frame per text message); see DESIGN.md.",
      content: { "text/event-stream": { schema: schemas.ref(route.method.output) } },
    };
  }
  if (route.successStatus === 204) return { description: "Done; no content." };
  const out = route.responseBody;
  const response: JsonSchema = {
    description: route.successStatus === 201 ? "Created." : "OK.",
    content: { "application/json": { schema: out === undefined ? schemas.ref(route.method.output) : schemas.field(out) } },
  };
  const headers: Record<string, unknown> = {};
  if (route.location !== undefined) {
    headers["Location"] = { description: "Absolute URI of the created resource.", schema: { type: "string", format: "uri" } };
  }
  if (out !== undefined && route.method.output.fields.some((f) => f.name === "next_page_token" && f !== out)) {
    headers["X-Next-Page-Token"] = {
      description: "Present when there are more results: pass it as `pageToken` to get the next page.",
      schema: { type: "string" },
    };
  }
  if (Object.keys(headers).length > 0) response["headers"] = headers;
  return response;
}
