/**
 * google.api.http path templates: parsing and matching, with no knowledge of protobuf.
 *
 * Grammar (from google/api/http.proto):
 *   Template = "/" Segments [ ":" Verb ] ; Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ; Variable = "{" FieldPath [ "=" Segments ] "}" ;
 */

/** One segment of a template: a literal, `*` (exactly one segment) or `**` (the rest of the path, zero or more). */
export type TemplateSegment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "single" }
  | { readonly kind: "rest" };

/** A `{field.path=…}` variable: it captures template segments `start` up to (excluding) `end`. */
export interface TemplateVariable {
  /** Dotted proto field path, e.g. "room_id" or "room.room_id". */
  readonly fieldPath: string;
  readonly start: number;
  readonly end: number;
}

/** A parsed template. Immutable; shared by every request matched against it. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb after the last segment (`/rooms/{id}:archive` → "archive"), if any. */
  readonly verb: string | undefined;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=@%]+$/;

/**
 * Parses a template. Throws a plain Error naming the template when it is malformed (a start-up, programmer error):
 * empty segments, nested variables, `**` anywhere but last, bad field paths or literal characters.
 */
export function parsePathTemplate(source: string): PathTemplate {
  const fail = (why: string): never => {
    throw new Error(`invalid path template "${source}": ${why}`);
  };
  if (!source.startsWith("/")) fail("must start with /");
  let body = source.slice(1);
  let verb: string | undefined;
  const lastSlash = body.lastIndexOf("/");
  const colon = body.indexOf(":", Math.max(lastSlash, body.lastIndexOf("}")));
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!LITERAL.test(verb)) fail(`bad verb "${verb}"`);
  }
  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  for (const token of splitOutsideBraces(body, fail)) {
    if (token.startsWith("{")) {
      if (!token.endsWith("}")) fail(`unterminated variable ${token}`);
      const inner = token.slice(1, -1);
      const eq = inner.indexOf("=");
      const fieldPath = eq < 0 ? inner : inner.slice(0, eq);
      if (!fieldPath.split(".").every((p) => IDENT.test(p))) fail(`bad field path "${fieldPath}"`);
      const start = segments.length;
      for (const part of (eq < 0 ? "*" : inner.slice(eq + 1)).split("/")) segments.push(plainSegment(part, fail));
      variables.push({ fieldPath, start, end: segments.length });
    } else {
      segments.push(plainSegment(token, fail));
    }
  }
  if (segments.some((s, i) => s.kind === "rest" && i !== segments.length - 1)) fail("** must be the last segment");
  if (new Set(variables.map((v) => v.fieldPath)).size !== variables.length) fail("a field is bound twice");
  return { source, segments, variables, verb };
}

/**
 * Matches the raw (still percent-encoded) non-empty segments of a request path. Returns the raw text bound to each
 * variable (segments joined by "/"), keyed by dotted field path, or undefined when the path does not fit. Literals
 * are compared byte for byte. O(segments).
 */
export function matchPathTemplate(
  template: PathTemplate,
  rawSegments: readonly string[],
): Record<string, string> | undefined {
  let segs = rawSegments;
  if (template.verb !== undefined) {
    const last = segs[segs.length - 1];
    const suffix = `:${template.verb}`;
    if (last === undefined || !last.endsWith(suffix) || last.length === suffix.length) return undefined;
    segs = [...segs.slice(0, -1), last.slice(0, -suffix.length)];
  }
  const tpl = template.segments;
  const hasRest = tpl[tpl.length - 1]?.kind === "rest";
  if (hasRest ? segs.length < tpl.length - 1 : segs.length !== tpl.length) return undefined;
  for (let i = 0; i < tpl.length; i++) {
    const t = tpl[i];
    if (t?.kind === "literal" && segs[i] !== t.value) return undefined;
  }
  const params: Record<string, string> = {};
  for (const v of template.variables) {
    const end = v.end === tpl.length && hasRest ? segs.length : v.end;
    params[v.fieldPath] = segs.slice(v.start, end).join("/");
  }
  return params;
}

/**
 * Orders templates most specific first: at the first differing segment a literal beats `*`, which beats `**`; then
 * a template with a verb beats one without, and a longer one beats a shorter one. Sorting by it makes "first match
 * wins" pick `/rooms/search` over `/rooms/{room_id}`.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (s: TemplateSegment | undefined): number =>
    s === undefined ? 3 : s.kind === "literal" ? 0 : s.kind === "single" ? 1 : 2;
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]) - rank(b.segments[i]);
    if (d !== 0) return d;
  }
  return (a.verb === undefined ? 1 : 0) - (b.verb === undefined ? 1 : 0);
}

function plainSegment(text: string, fail: (why: string) => never): TemplateSegment {
  if (text === "*") return { kind: "single" };
  if (text === "**") return { kind: "rest" };
  if (!LITERAL.test(text)) fail(`bad segment "${text}"`);
  return { kind: "literal", value: text };
}

function splitOutsideBraces(body: string, fail: (why: string) => never): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of body) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth > 1 || depth < 0) fail("nested or unbalanced braces");
    if (ch === "/" && depth === 0) {
      tokens.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  tokens.push(current);
  if (depth !== 0) fail("unbalanced braces");
  if (tokens.some((t) => t === "")) fail("empty segment");
  return tokens;
}
