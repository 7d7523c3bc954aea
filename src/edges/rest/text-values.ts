import { ScalarType } from "@bufbuild/protobuf";
import type { DescField, JsonObject, JsonValue } from "@bufbuild/protobuf";
import { RestDecodeError } from "./decode-error.js";

/**
 * Converts one text value from a URL (path variable or query parameter) into the proto JSON value of `field` (an
 * element of it for lists), so that fromJson can finish the job: integers of up to 32 bits become JSON numbers,
 * bools must be "true" or "false", everything else stays a string (64-bit integers, floats, bytes as base64, enum
 * names, Timestamps…). Throws RestDecodeError naming `name` when the text cannot be that type.
 */
export function textToJson(field: DescField, text: string, name: string): JsonValue {
  const scalar = scalarOf(field);
  switch (scalar) {
    case ScalarType.BOOL:
      if (text === "true" || text === "false") return text === "true";
      throw new RestDecodeError(`${name} must be true or false`, name);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      if (/^-?[0-9]{1,10}$/.test(text)) return Number(text);
      throw new RestDecodeError(`${name} must be an integer`, name);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      if (/^-?[0-9]{1,20}$/.test(text)) return text;
      throw new RestDecodeError(`${name} must be an integer`, name);
    case "enum":
      return /^-?[0-9]{1,10}$/.test(text) ? Number(text) : text;
    default:
      return text;
  }
}

/**
 * Sets `value` at the JSON (lowerCamel) path of `fields` inside `json`, creating intermediate objects. Throws
 * RestDecodeError naming `name` when the spot is already taken (the same field given twice, e.g. in the path and
 * the body) or an intermediate value is not an object.
 */
export function setJsonPath(json: JsonObject, fields: readonly DescField[], value: JsonValue, name: string): void {
  let target: JsonObject = json;
  fields.forEach((field, i) => {
    const keys = [field.jsonName, field.name];
    const existing = keys.map((k) => target[k]).find((v) => v !== undefined);
    if (i === fields.length - 1) {
      if (existing !== undefined) throw new RestDecodeError(`${name} is given more than once`, name);
      target[field.jsonName] = value;
      return;
    }
    if (existing === undefined) {
      const child: JsonObject = {};
      target[field.jsonName] = child;
      target = child;
    } else if (isJsonObject(existing)) {
      target = existing;
    } else {
      throw new RestDecodeError(`${field.jsonName} must be an object`, field.jsonName);
    }
  });
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function scalarOf(field: DescField): ScalarType | "enum" | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return field.scalar;
    case "enum":
      return "enum";
    case "list":
      return field.listKind === "scalar" ? field.scalar : field.listKind === "enum" ? "enum" : wrapped(field.message);
    case "message":
      return wrapped(field.message);
    default:
      return undefined;
  }
}

function wrapped(desc: { typeName: string; fields: readonly DescField[] }): ScalarType | undefined {
  const value = desc.typeName.endsWith("Value") ? desc.fields[0] : undefined;
  return value?.fieldKind === "scalar" ? value.scalar : undefined;
}
