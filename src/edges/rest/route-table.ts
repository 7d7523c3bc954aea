import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescField, DescMethod, DescService } from "@bufbuild/protobuf";
import { http } from "../../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../../gen/google/api/http_pb.js";
import { rest } from "../../../gen/chat/v1/rest_pb.js";
import { isTextField, protoPath, requireFieldPath } from "./field-path.js";
import { compareSpecificity, matchPathTemplate, parsePathTemplate } from "./path-template.js";
import type { PathTemplate } from "./path-template.js";

/** Where a route's request body goes: nowhere, the whole request message ("*"), or one field of it. */
export type RestBody = { readonly kind: "none" } | { readonly kind: "all" } | { readonly kind: "field"; readonly field: DescField };

/** One REST route, derived from one google.api.http binding of one RPC. Immutable. */
export interface RestRoute {
  /** The RPC; `method.parent` is its service, `method.input` / `method.output` its messages. */
  readonly method: DescMethod;
  /** Upper-case HTTP verb: GET, POST, PUT, DELETE, PATCH, or the custom kind. */
  readonly verb: string;
  readonly template: PathTemplate;
  /** Request field bound by each template variable, keyed by the variable's dotted proto path. */
  readonly pathFields: ReadonlyMap<string, readonly DescField[]>;
  readonly body: RestBody;
  /** The response field sent as the body (`response_body`), or undefined for the whole response message. */
  readonly responseBody: DescField | undefined;
  /** RestOptions.success_status, else 200. 204 means the response has no body. */
  readonly successStatus: number;
  /** RestOptions.location template ("/rooms/{room.room_id}", relative), when the route sets a Location header. */
  readonly location: string | undefined;
  /** Query parameter aliases from RestOptions.query_aliases: alias → dotted proto path of a request field. */
  readonly queryAliases: ReadonlyMap<string, string>;
  /** True for server-streaming RPCs: the caller serves the route as SSE / WebSocket, not as one JSON response. */
  readonly streaming: boolean;
}

/** The outcome of matching a request line. `pathParams` are raw: still percent-encoded, keyed by field path. */
export type RouteMatch =
  | { readonly route: RestRoute; readonly pathParams: Readonly<Record<string, string>> }
  | { readonly error: "not_found" }
  | { readonly error: "method_not_allowed"; readonly allow: readonly string[] };

/** Every REST route of a set of services. */
export interface RouteTable {
  /** All routes, most specific template first. */
  readonly routes: readonly RestRoute[];
  /**
   * Finds the route for a verb and a URL pathname (no query string). Never throws. Strict about shape: the
   * pathname must start with "/" and have no empty segment, so "/rooms/" and "//rooms" are not found (no
   * normalisation, no redirect). Percent-encoded bytes are left as they are: literals only match unencoded text and
   * decodeRestRequest decodes and checks the parameters. When the path matches only under other verbs the answer
   * is method_not_allowed with the sorted verbs for an Allow header. Cost: O(routes × segments).
   */
  match(verb: string, pathname: string): RouteMatch;
}

/**
 * Derives the route table from the google.api.http annotations (and chat.v1.rest options) of every method; methods
 * without an annotation get no route, additional_bindings add routes. Throws a plain Error at start-up when an
 * annotation is inconsistent: unknown field paths, a variable bound to a non-text field, two identical routes.
 */
export function buildRouteTable(services: readonly DescService[]): RouteTable {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http);
      for (const binding of [rule, ...rule.additionalBindings]) routes.push(buildRoute(method, binding));
    }
  }
  routes.sort((a, b) => compareSpecificity(a.template, b.template));
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.verb} ${r.template.source}`;
    if (seen.has(key)) throw new Error(`duplicate REST route ${key} (${r.method.parent.typeName}.${r.method.name})`);
    seen.add(key);
  }
  return { routes, match: (verb, pathname) => matchRoute(routes, verb, pathname) };
}

function matchRoute(routes: readonly RestRoute[], verb: string, pathname: string): RouteMatch {
  if (!pathname.startsWith("/")) return { error: "not_found" };
  const segments = pathname.slice(1).split("/");
  if (segments.some((s) => s === "")) return { error: "not_found" };
  const allow = new Set<string>();
  for (const route of routes) {
    const pathParams = matchPathTemplate(route.template, segments);
    if (pathParams === undefined) continue;
    if (route.verb === verb) return { route, pathParams };
    allow.add(route.verb);
  }
  return allow.size === 0 ? { error: "not_found" } : { error: "method_not_allowed", allow: [...allow].sort() };
}

function buildRoute(method: DescMethod, rule: HttpRule): RestRoute {
  const where = `${method.parent.typeName}.${method.name}`;
  const { verb, path } = verbAndPath(rule, where);
  const template = parsePathTemplate(path);
  const pathFields = new Map<string, readonly DescField[]>();
  for (const v of template.variables) {
    const fields = requireFieldPath(method.input, v.fieldPath, `${where} path`);
    const last = fields[fields.length - 1];
    if (last === undefined || !isTextField(last) || last.fieldKind === "list") {
      throw new Error(`${where} path: "${v.fieldPath}" must be a singular scalar field`);
    }
    pathFields.set(protoPath(fields), fields);
  }
  const options = hasOption(method, rest) ? getOption(method, rest) : undefined;
  const queryAliases = new Map<string, string>();
  for (const entry of options?.queryAliases ?? []) {
    const [alias, target, extra] = entry.split("=");
    if (!alias || !target || extra !== undefined) throw new Error(`${where} query alias "${entry}": want alias=field`);
    queryAliases.set(alias, protoPath(requireFieldPath(method.input, target, `${where} query alias`)));
  }
  return {
    method,
    verb,
    template,
    pathFields,
    body: bodyOf(method, rule.body, where),
    responseBody: rule.responseBody === "" ? undefined : topLevelField(method, rule.responseBody, where),
    successStatus: options !== undefined && options.successStatus !== 0 ? options.successStatus : 200,
    location: options?.location ? options.location : undefined,
    queryAliases,
    streaming: method.methodKind === "server_streaming",
  };
}

function verbAndPath(rule: HttpRule, where: string): { verb: string; path: string } {
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { verb: rule.pattern.case.toUpperCase(), path: rule.pattern.value };
    case "custom":
      return { verb: rule.pattern.value.kind.toUpperCase(), path: rule.pattern.value.path };
    default:
      throw new Error(`${where}: google.api.http rule has no verb`);
  }
}

function bodyOf(method: DescMethod, body: string, where: string): RestBody {
  if (body === "") return { kind: "none" };
  if (body === "*") return { kind: "all" };
  return { kind: "field", field: topLevelField(method, body, where, "input") };
}

function topLevelField(method: DescMethod, name: string, where: string, side: "input" | "output" = "output"): DescField {
  const desc = side === "input" ? method.input : method.output;
  const field = desc.fields.find((f) => f.name === name);
  if (field === undefined) throw new Error(`${where}: "${name}" is not a field of ${desc.typeName}`);
  return field;
}
