import { toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { resolveFieldPath } from "./field-path.js";
import type { RestRoute } from "./route-table.js";
import { isJsonObject } from "./text-values.js";

/** What the REST edge sends for a successful unary call. */
export interface RestResponse {
  /** The route's success status (200, 201, 204…). */
  readonly status: number;
  /** The JSON body to serialise, or undefined for "no body" (204). */
  readonly body: JsonValue | undefined;
  /** The Location header, relative ("/rooms/42"): the caller makes it absolute. Absent when the route has none. */
  readonly location?: string;
  /**
   * Extra response headers. `X-Next-Page-Token` carries a non-empty `next_page_token` that `response_body` left out
   * of the body (e.g. GET /rooms answers a bare array); pass it back as `?pageToken=` for the next page.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Encodes a unary RPC's response for the route. The body is proto3 JSON (lowerCamel names, int64 as strings,
 * Timestamps as RFC 3339) with `alwaysEmitImplicit: true`, so every non-oneof scalar and list is present even when
 * default ("" / 0 / false / []): clients see a stable shape, and a `response_body` list that is empty is `[]`, never
 * missing. Unset message fields and oneofs stay absent; an unset message picked by `response_body` is `null`. The
 * Location template is filled from the response with percent-encoded values, and omitted (a server bug, not the
 * client's) when one of its fields is empty.
 */
export function encodeRestResponse(route: RestRoute, response: Message): RestResponse {
  const output = route.method.output;
  const json = toJson(output, response, { alwaysEmitImplicit: true }) as JsonValue;
  const whole = isJsonObject(json) ? json : {};
  const headers: Record<string, string> = {};
  let body: JsonValue | undefined = json;
  if (route.responseBody !== undefined) {
    body = whole[route.responseBody.jsonName] ?? null;
    const token = output.fields.find((f) => f.name === "next_page_token" && f !== route.responseBody);
    const value = token === undefined ? undefined : whole[token.jsonName];
    if (typeof value === "string" && value !== "") headers["X-Next-Page-Token"] = value;
  }
  if (route.successStatus === 204) body = undefined;
  const location = route.location === undefined ? undefined : fillTemplate(route.location, output, whole);
  return location === undefined ? { status: route.successStatus, body, headers } : { status: route.successStatus, body, location, headers };
}

/** Replaces each `{field.path}` of a template with the percent-encoded value at that path of the JSON message. */
function fillTemplate(template: string, desc: DescMessage, json: JsonObject): string | undefined {
  let missing = false;
  const filled = template.replace(/\{([^}]+)\}/g, (_, path: string) => {
    const fields = resolveFieldPath(desc, path) ?? [];
    let value: JsonValue | undefined = fields.length > 0 ? json : undefined;
    for (const field of fields) value = isJsonObject(value) ? value[field.jsonName] : undefined;
    if ((typeof value !== "string" && typeof value !== "number") || value === "") {
      missing = true;
      return "";
    }
    return encodeURIComponent(String(value));
  });
  return missing ? undefined : filled;
}
