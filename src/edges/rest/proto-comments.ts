/**
 * The comments of the proto sources, for documentation (the OpenAPI document). The generated
 * code in gen/ embeds descriptors without their source info, so the comments come from the
 * descriptor set `npm run generate` writes beside it (gen/chat.binpb, which keeps it), matched
 * by file name and source path.
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import type { DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** The leading comment of a service, method, message or field, trimmed; undefined when it has none. */
export type ProtoComments = (desc: DescService | DescMethod | DescMessage | DescField) => string | undefined;

/** The committed descriptor set (with source info) of the chat API and its imports. */
export const DESCRIPTOR_SET_URL = new URL("../../../gen/chat.binpb", import.meta.url);

/** Comments read from a FileDescriptorSet (binary); without one, every lookup is undefined. */
export function protoComments(descriptorSet: Uint8Array | undefined): ProtoComments {
  const comments = new Map<string, string>();
  if (descriptorSet !== undefined) {
    for (const file of fromBinary(FileDescriptorSetSchema, descriptorSet).file) {
      for (const location of file.sourceCodeInfo?.location ?? []) {
        const text = location.leadingComments.trim();
        if (text !== "") comments.set(key(file.name, location.path), text.replace(/\n /g, "\n"));
      }
    }
  }
  return (desc) => comments.get(key(fileOf(desc), sourcePath(desc)));
}

/** Comments from the committed descriptor set; none (not an error) when it is missing or unreadable. */
export function loadProtoComments(url: URL = DESCRIPTOR_SET_URL): ProtoComments {
  let bytes: Uint8Array | undefined;
  try {
    bytes = readFileSync(url);
  } catch {
    bytes = undefined;
  }
  return protoComments(bytes);
}

function key(file: string, path: readonly number[]): string {
  return `${file}:${path.join(".")}`;
}

function fileOf(desc: DescService | DescMethod | DescMessage | DescField): string {
  switch (desc.kind) {
    case "rpc":
      return desc.parent.file.proto.name;
    case "field":
      return desc.parent.file.proto.name;
    default:
      return desc.file.proto.name;
  }
}

// Field numbers of FileDescriptorProto.service (6), .message_type (4); ServiceDescriptorProto.method (2);
// DescriptorProto.field (2), .nested_type (3): the source path of an element, as descriptor.proto defines it.
function sourcePath(desc: DescService | DescMethod | DescMessage | DescField): number[] {
  switch (desc.kind) {
    case "service":
      return [6, desc.file.proto.service.indexOf(desc.proto)];
    case "rpc":
      return [...sourcePath(desc.parent), 2, desc.parent.proto.method.indexOf(desc.proto)];
    case "message":
      return desc.parent === undefined
        ? [4, desc.file.proto.messageType.indexOf(desc.proto)]
        : [...sourcePath(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)];
    case "field":
      return [...sourcePath(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
  }
}
