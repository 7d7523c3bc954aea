import { getOption, hasOption, ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage, DescOneof } from "@bufbuild/protobuf";
import { field as fieldRules, oneof as oneofRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { ProtoComments } from "./proto-comments.js";

/** A JSON Schema (2020-12, as used by OpenAPI 3.1) object. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * Derives JSON Schemas describing the proto3 JSON form of messages, collecting one schema per message type in
 * `components` (keyed by full type name, referenced with `$ref`). Records buf.validate string and 32-bit integer
 * bounds, patterns and `required`. Well-known types are inlined in their JSON form (Timestamp → date-time string).
 */
export class SchemaCollector {
  /** The components/schemas collected so far. */
  readonly components: Record<string, JsonSchema> = {};

  /** `comments` gives messages and their properties a description (the proto comments), when they have one. */
  constructor(private readonly comments: ProtoComments = () => undefined) {}

  /** A `$ref` to the message's component (creating it, and those it needs), or the inline form of a well-known type. */
  ref(desc: DescMessage): JsonSchema {
    const wkt = WELL_KNOWN[desc.typeName];
    if (wkt !== undefined) return { ...wkt };
    if (!(desc.typeName in this.components)) {
      this.components[desc.typeName] = {};
      this.components[desc.typeName] = this.object(desc);
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  /**
   * The inline object schema of a message, leaving out `omit` fields and every member of their oneofs (used for a
   * request body whose other fields come from the path). Objects are closed: unknown properties are refused.
   */
  object(desc: DescMessage, omit: ReadonlySet<DescField> = new Set()): JsonSchema {
    const omitOneofs = new Set([...omit].map((f) => f.oneof).filter((o) => o !== undefined));
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const f of desc.fields) {
      if (omit.has(f) || (f.oneof !== undefined && omitOneofs.has(f.oneof))) continue;
      const comment = this.comments(f);
      properties[f.jsonName] = comment === undefined ? this.field(f) : { ...this.field(f), description: comment };
      if (hasOption(f, fieldRules) && getOption(f, fieldRules).required) required.push(f.jsonName);
    }
    const schema: JsonSchema = { type: "object", title: desc.name, properties, additionalProperties: false };
    const comment = this.comments(desc);
    if (comment !== undefined) schema["description"] = comment;
    if (required.length > 0) schema["required"] = required;
    const oneofs = desc.oneofs.filter((o) => !omitOneofs.has(o)).map(oneofSchema);
    if (oneofs.length > 0) schema["allOf"] = oneofs;
    return schema;
  }

  /** The schema of one field's JSON value, with its buf.validate constraints. */
  field(f: DescField): JsonSchema {
    switch (f.fieldKind) {
      case "scalar":
        return { ...scalarSchema(f.scalar), ...constraints(f) };
      case "enum":
        return { type: "string", enum: f.enum.values.map((v) => v.name) };
      case "message":
        return this.ref(f.message);
      case "list": {
        const items =
          f.listKind === "scalar" ? scalarSchema(f.scalar) : f.listKind === "enum" ? { type: "string", enum: f.enum.values.map((v) => v.name) } : this.ref(f.message);
        return { type: "array", items };
      }
      case "map": {
        const values =
          f.mapKind === "scalar" ? scalarSchema(f.scalar) : f.mapKind === "enum" ? { type: "string", enum: f.enum.values.map((v) => v.name) } : this.ref(f.message);
        return { type: "object", additionalProperties: values };
      }
    }
  }
}

/** At most one member of a oneof is set; exactly one when buf.validate marks the oneof required. */
function oneofSchema(o: DescOneof): JsonSchema {
  const each = o.fields.map((f) => ({ required: [f.jsonName] }));
  const required = hasOption(o, oneofRules) && getOption(o, oneofRules).required;
  return { oneOf: required ? each : [...each, { not: { anyOf: each } }] };
}

function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    default:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
  }
}

function constraints(f: DescField): JsonSchema {
  if (!hasOption(f, fieldRules)) return {};
  const rules = getOption(f, fieldRules).type;
  const out: JsonSchema = {};
  if (rules.case === "string") {
    const s = rules.value;
    if (s.minLen > 0n) out["minLength"] = Number(s.minLen);
    if (s.maxLen > 0n) out["maxLength"] = Number(s.maxLen);
    if (s.pattern !== "") out["pattern"] = s.pattern;
  } else if (rules.case === "int32" || rules.case === "sint32" || rules.case === "sfixed32") {
    const { greaterThan: gt, lessThan: lt } = rules.value;
    if (gt.case !== undefined) out[gt.case === "gte" ? "minimum" : "exclusiveMinimum"] = gt.value;
    if (lt.case !== undefined) out[lt.case === "lte" ? "maximum" : "exclusiveMaximum"] = lt.value;
  }
  return out;
}

const WELL_KNOWN: Readonly<Record<string, JsonSchema>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Any": { type: "object", required: ["@type"], properties: { "@type": { type: "string" } } },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
};
