import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Resolves a dotted field path ("room.room_id") on a message, one field per part. Each part may be the proto name or
 * the JSON (lowerCamel) name. Every part but the last must be a singular message field. Returns undefined when the
 * path does not resolve.
 */
export function resolveFieldPath(desc: DescMessage, path: string): readonly DescField[] | undefined {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = desc;
  for (const part of path.split(".")) {
    if (current === undefined) return undefined;
    const field: DescField | undefined = current.fields.find((f) => f.name === part || f.jsonName === part);
    if (field === undefined) return undefined;
    fields.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

/**
 * Like resolveFieldPath, for paths that come from the descriptors themselves (templates, options): throws a plain
 * Error naming `what` when the path does not resolve — a start-up, programmer error.
 */
export function requireFieldPath(desc: DescMessage, path: string, what: string): readonly DescField[] {
  const fields = resolveFieldPath(desc, path);
  if (fields === undefined) throw new Error(`${what}: "${path}" is not a field path of ${desc.typeName}`);
  return fields;
}

/** The proto-name dotted path of resolved fields ("room.room_id"), the canonical key for a field path. */
export function protoPath(fields: readonly DescField[]): string {
  return fields.map((f) => f.name).join(".");
}

/**
 * True when a value for this field can be written as one query-string or path value: scalars, enums, lists of
 * those, and the well-known types whose JSON form is a string or a number.
 */
export function isTextField(field: DescField): boolean {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
      return true;
    case "list":
      return field.listKind !== "message" || isTextMessage(field.message);
    case "message":
      return isTextMessage(field.message);
    default:
      return false;
  }
}

/** The well-known message types whose proto JSON form is a string or number, so they fit in a URL. */
export function isTextMessage(desc: DescMessage): boolean {
  return TEXT_MESSAGES.has(desc.typeName);
}

const TEXT_MESSAGES: ReadonlySet<string> = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.BoolValue",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.FloatValue",
  "google.protobuf.DoubleValue",
]);
