import { fromJson } from "@bufbuild/protobuf";
import type { DescField, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { exceedsJsonDepth, tooDeepMessage } from "../http/client-json.js";
import { RestDecodeError } from "./decode-error.js";
import { isTextField, protoPath, resolveFieldPath } from "./field-path.js";
import type { RestRoute } from "./route-table.js";
import { isJsonObject, setJsonPath, textToJson } from "./text-values.js";

export { RestDecodeError } from "./decode-error.js";
export { encodeRestResponse } from "./response-codec.js";
export type { RestResponse } from "./response-codec.js";

/**
 * Parses a request body as JSON. An empty (or all white-space) body is "no body": undefined. Throws RestDecodeError
 * on malformed JSON, and on JSON nested deeper than MAX_JSON_DEPTH (checked on the text, before parsing).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  if (exceedsJsonDepth(text)) throw new RestDecodeError(tooDeepMessage("request body"));
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new RestDecodeError(`request body is not valid JSON: ${(cause as Error).message}`, undefined, cause);
  }
}

/**
 * Builds the RPC request message of a matched route from the pieces of an HTTP request, strictly:
 * - `body` (parsed JSON, undefined when absent) goes where the route's `body` rule says: "*" takes a JSON object of
 *   request fields (absent = {}), a field rule takes the value of that field, and a route without a body rule
 *   refuses any body;
 * - `pathParams` (raw, from RouteTable.match) are percent-decoded and set on their fields, oneof members included;
 *   a value that is not valid percent-encoding or decodes to "/" or NUL is refused, as is a body that sets the same
 *   field (or another member of its oneof);
 * - `query` sets the remaining fields, by JSON name, proto name, dotted path or RestOptions alias; a parameter that
 *   is not such a field, that names a field already set, or that repeats for a non-repeated field is refused; a
 *   route whose body rule is "*" takes no query parameters at all;
 * - the result goes through protobuf-es `fromJson` with unknown fields rejected, so wrong JSON types fail too.
 * Every failure is a RestDecodeError (never anything else) whose message names the offending field or parameter.
 */
export function decodeRestRequest(
  route: RestRoute,
  pathParams: Readonly<Record<string, string>>,
  query: URLSearchParams,
  body: unknown,
): Message {
  const json = bodyJson(route, body);
  for (const [path, fields] of route.pathFields) {
    const raw = pathParams[path];
    if (raw === undefined) throw new RestDecodeError(`path parameter ${path} is missing`, path);
    refuseOneofSiblings(json, fields, path);
    setJsonPath(json, fields, textToJson(fields[fields.length - 1] as DescField, decodePathValue(raw, path), path), path);
  }
  applyQuery(route, query, json);
  try {
    return fromJson(route.method.input, json, { ignoreUnknownFields: false });
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    const named = /field [\w.]+\.(\w+) from JSON|key "([^"]*)" is unknown/.exec(text);
    throw new RestDecodeError(text, named?.[1] ?? named?.[2], cause);
  }
}

function bodyJson(route: RestRoute, body: unknown): JsonObject {
  switch (route.body.kind) {
    case "none":
      if (body !== undefined) throw new RestDecodeError(`${route.verb} ${route.template.source} takes no request body`);
      return {};
    case "all":
      if (body === undefined) return {};
      if (!isJsonObject(body)) throw new RestDecodeError("request body must be a JSON object");
      return { ...body };
    case "field":
      return body === undefined ? {} : { [route.body.field.jsonName]: body as JsonValue };
  }
}

function decodePathValue(raw: string, name: string): string {
  return raw
    .split("/")
    .map((segment) => {
      let text: string;
      try {
        text = decodeURIComponent(segment);
      } catch (cause) {
        throw new RestDecodeError(`path parameter ${name} is not valid percent-encoding`, name, cause);
      }
      if (text.includes("/") || text.includes("\0")) {
        throw new RestDecodeError(`path parameter ${name} must not contain "/" or NUL`, name);
      }
      return text;
    })
    .join("/");
}

/** A path variable bound to a oneof member excludes its siblings from the body. */
function refuseOneofSiblings(json: JsonObject, fields: readonly DescField[], path: string): void {
  const last = fields[fields.length - 1];
  if (fields.length !== 1 || last?.oneof === undefined) return;
  for (const sibling of last.oneof.fields) {
    if (sibling === last) continue;
    if (json[sibling.jsonName] !== undefined || json[sibling.name] !== undefined) {
      throw new RestDecodeError(`${sibling.jsonName} cannot be given with ${path} from the path`, sibling.jsonName);
    }
  }
}

function applyQuery(route: RestRoute, query: URLSearchParams, json: JsonObject): void {
  const names = [...new Set(query.keys())];
  if (names.length > 0 && route.body.kind === "all") {
    throw new RestDecodeError(`query parameter ${names[0]} is not accepted: send the fields in the JSON body`, names[0]);
  }
  for (const name of names) {
    const alias = route.queryAliases.get(name);
    const fields = resolveFieldPath(route.method.input, alias ?? name);
    const last = fields?.[fields.length - 1];
    if (fields === undefined || last === undefined || !isTextField(last) || !fields.slice(0, -1).every(isSingular)) {
      throw new RestDecodeError(`unknown query parameter ${name}`, name);
    }
    if (route.pathFields.has(protoPath(fields))) {
      throw new RestDecodeError(`query parameter ${name} is given by the path`, name);
    }
    const values = query.getAll(name);
    if (last.fieldKind === "list") {
      setJsonPath(json, fields, values.map((v) => textToJson(last, v, name)), name);
    } else if (values.length > 1) {
      throw new RestDecodeError(`query parameter ${name} is given more than once`, name);
    } else {
      setJsonPath(json, fields, textToJson(last, values[0] ?? "", name), name);
    }
  }
}

function isSingular(field: DescField): boolean {
  return field.fieldKind === "message";
}
