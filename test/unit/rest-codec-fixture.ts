/**
 * A made-up service for the REST codec's unit tests, with every kind of field the codec handles
 * (bool, 32- and 64-bit integers, floats, bytes, enums, lists, nested and well-known messages,
 * maps, a oneof) — the chat API's own requests use only strings and int32, so they cannot reach
 * most of text-values.ts and field-path.ts. Built at run time from a FileDescriptorProto with
 * google.api.http and chat.v1.rest options, so buildRouteTable derives its routes as for the real API.
 */
import { create, createFileRegistry, setExtension } from "@bufbuild/protobuf";
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  MethodOptionsSchema,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";
import { http } from "../../gen/google/api/annotations_pb.js";
import { file_google_api_annotations } from "../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../gen/google/api/http_pb.js";
import { file_chat_v1_rest, rest, RestOptionsSchema } from "../../gen/chat/v1/rest_pb.js";

type FieldInit = { name: string; number: number; type: Type; label?: Label; typeName?: string; jsonName?: string; oneofIndex?: number };

const field = ({ label = Label.OPTIONAL, ...init }: FieldInit) => ({ ...init, label });
const jsonNameOf = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const EVERYTHING_FIELDS: FieldInit[] = [
  { name: "flag", number: 1, type: Type.BOOL },
  { name: "count", number: 2, type: Type.INT32 },
  { name: "s32", number: 3, type: Type.SINT32 },
  { name: "u32", number: 4, type: Type.UINT32 },
  { name: "f32", number: 5, type: Type.FIXED32 },
  { name: "sf32", number: 6, type: Type.SFIXED32 },
  { name: "big", number: 7, type: Type.INT64 },
  { name: "s64", number: 8, type: Type.SINT64 },
  { name: "u64", number: 9, type: Type.UINT64 },
  { name: "f64", number: 10, type: Type.FIXED64 },
  { name: "sf64", number: 11, type: Type.SFIXED64 },
  { name: "ratio", number: 12, type: Type.DOUBLE },
  { name: "blob", number: 13, type: Type.BYTES },
  { name: "color", number: 14, type: Type.ENUM, typeName: ".codectest.Color" },
  { name: "tags", number: 15, type: Type.STRING, label: Label.REPEATED },
  { name: "nums", number: 16, type: Type.INT32, label: Label.REPEATED },
  { name: "colors", number: 17, type: Type.ENUM, label: Label.REPEATED, typeName: ".codectest.Color" },
  { name: "inner", number: 18, type: Type.MESSAGE, typeName: ".codectest.Inner" },
  { name: "inners", number: 19, type: Type.MESSAGE, label: Label.REPEATED, typeName: ".codectest.Inner" },
  { name: "wrapped_count", number: 20, type: Type.MESSAGE, typeName: ".google.protobuf.Int32Value" },
  { name: "wrapped_flag", number: 21, type: Type.MESSAGE, typeName: ".google.protobuf.BoolValue" },
  { name: "wrapped_counts", number: 22, type: Type.MESSAGE, label: Label.REPEATED, typeName: ".google.protobuf.Int64Value" },
  { name: "when", number: 23, type: Type.MESSAGE, typeName: ".google.protobuf.Timestamp" },
  { name: "whens", number: 24, type: Type.MESSAGE, label: Label.REPEATED, typeName: ".google.protobuf.Timestamp" },
  { name: "doc", number: 25, type: Type.MESSAGE, typeName: ".google.protobuf.Struct" },
  { name: "labels", number: 26, type: Type.MESSAGE, label: Label.REPEATED, typeName: ".codectest.Everything.LabelsEntry" },
  { name: "pick_a", number: 27, type: Type.STRING, oneofIndex: 0 },
  { name: "pick_b", number: 28, type: Type.STRING, oneofIndex: 0 },
  { name: "title", number: 29, type: Type.STRING },
  { name: "choice_b", number: 30, type: Type.STRING },
];

function rule(pattern: { case: "get" | "put" | "post" | "delete" | "patch"; value: string }, body = "") {
  const options = create(MethodOptionsSchema);
  setExtension(options, http, create(HttpRuleSchema, { pattern, body }));
  return options;
}

function withRest(options: ReturnType<typeof rule>, queryAliases: string[]) {
  setExtension(options, rest, create(RestOptionsSchema, { queryAliases }));
  return options;
}

const file = create(FileDescriptorProtoSchema, {
  name: "codectest/codec_test.proto",
  package: "codectest",
  syntax: "proto3",
  dependency: ["google/api/annotations.proto", "chat/v1/rest.proto", "google/protobuf/wrappers.proto", "google/protobuf/timestamp.proto", "google/protobuf/struct.proto"],
  enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "RED", number: 1 }, { name: "BLUE", number: 2 }, { name: "BLUE2", number: 3 }] }],
  messageType: [
    {
      name: "Inner",
      field: [
        field({ name: "name", number: 1, type: Type.STRING, jsonName: "name" }),
        field({ name: "level", number: 2, type: Type.INT32, jsonName: "level" }),
        field({ name: "deeper", number: 3, type: Type.MESSAGE, typeName: ".codectest.Inner", jsonName: "deeper" }),
        field({ name: "choice_a", number: 4, type: Type.STRING, jsonName: "choiceA", oneofIndex: 0 }),
        field({ name: "choice_b", number: 5, type: Type.STRING, jsonName: "choiceB", oneofIndex: 0 }),
      ],
      oneofDecl: [{ name: "choice" }],
    },
    {
      name: "Everything",
      field: EVERYTHING_FIELDS.map((f) => field({ ...f, jsonName: jsonNameOf(f.name) })),
      oneofDecl: [{ name: "pick" }],
      nestedType: [
        {
          name: "LabelsEntry",
          field: [field({ name: "key", number: 1, type: Type.STRING, jsonName: "key" }), field({ name: "value", number: 2, type: Type.STRING, jsonName: "value" })],
          options: { mapEntry: true },
        },
      ],
    },
    { name: "Empty" },
  ],
  service: [
    {
      name: "CodecTestService",
      method: [
        { name: "GetThing", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: withRest(rule({ case: "get", value: "/things/{inner.name}/{count}" }), ["n=nums", "deep=inner.deeper.name"]) },
        { name: "ListThings", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "get", value: "/things" }) },
        { name: "PutThing", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "put", value: "/things/{big}" }, "*") },
        { name: "PutInner", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "put", value: "/inners/{inner.name}/{pick_b}" }, "*") },
        { name: "PutChoice", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "put", value: "/choices/{inner.choice_a}" }, "*") },
        { name: "PatchInner", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "patch", value: "/picks/{pick_a}" }, "inner") },
        { name: "PostFlag", inputType: ".codectest.Everything", outputType: ".codectest.Empty", options: rule({ case: "post", value: "/flags/{flag}/{color}/{title=files/**}" }, "tags") },
      ],
    },
  ],
});

const registry = createFileRegistry(file, (name) =>
  ({
    "google/api/annotations.proto": file_google_api_annotations,
    "chat/v1/rest.proto": file_chat_v1_rest,
    "google/protobuf/wrappers.proto": file_google_protobuf_wrappers,
    "google/protobuf/timestamp.proto": file_google_protobuf_timestamp,
    "google/protobuf/struct.proto": file_google_protobuf_struct,
  })[name],
);

/** The test service: GET /things/{inner.name}/{count}, GET /things, PUT /things/{big}, PUT /inners/{inner.name}/{pick_b} and PUT /choices/{inner.choice_a} (body "*"), PATCH /picks/{pick_a} (body "inner"), POST /flags/{flag}/{color}/{title=files/**} (body "tags", the rest of the path in `title`). */
export const CodecTestService = registry.getService("codectest.CodecTestService") as DescService;
/** The request message of every route. */
export const Everything = registry.getMessage("codectest.Everything") as DescMessage;
/** Its nested message type. */
export const Inner = registry.getMessage("codectest.Inner") as DescMessage;
