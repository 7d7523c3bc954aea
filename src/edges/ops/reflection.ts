import type { DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1 } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** A reflection request, in the shape shared by `grpc.reflection.v1` and `v1alpha`. */
type ReflectionRequest = {
  messageRequest:
    | {
        case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices";
        value: string;
      }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
};

/** The `message_response` oneof of a reflection response, in the shape shared by both versions. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Serves gRPC server reflection (`grpc.reflection.v1` and `grpc.reflection.v1alpha`, bidi `ServerReflectionInfo`)
 * for the given services. Lists those services plus both reflection services; resolves every file, symbol
 * (service, method, message, field, oneof, enum, enum value, extension) and extension of the services' files and
 * all their transitive imports. A file answer carries the file first, then each of its transitive imports not yet
 * sent on that stream, so a client can always resolve what it receives. Unknown names are answered with an
 * `error_response` of NOT_FOUND (5) and the stream stays open. Needs HTTP/2 (bidi streaming over gRPC).
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const index = new ReflectionIndex([...services, ReflectionV1, ReflectionV1alpha]);
  router.service(ReflectionV1, { serverReflectionInfo: (requests, ctx) => answerAll(index, requests, ctx) });
  router.service(ReflectionV1alpha, { serverReflectionInfo: (requests, ctx) => answerAll(index, requests, ctx) });
}

/**
 * One reflection stream: an answer per request until the client ends its side. A client that
 * goes away mid-stream (its requests end with an error once the call is aborted) is a cancel,
 * not a server fault: it ends the call as CANCELED, which is logged at info, without a stack.
 */
async function* answerAll<R extends ReflectionRequest & { host: string }>(index: ReflectionIndex, requests: AsyncIterable<R>, ctx: HandlerContext) {
  const sent = new Set<string>();
  try {
    for await (const req of requests) {
      yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req, sent) };
    }
  } catch (error) {
    if (ctx.signal.aborted) throw new ConnectError("the client went away", Code.Canceled);
    throw error;
  }
}

/** Everything reflection can answer about a fixed set of services, indexed once at startup. */
class ReflectionIndex {
  private readonly serviceNames: string[] = [];
  private readonly files = new Map<string, DescFile>();
  private readonly encoded = new Map<string, Uint8Array>();
  private readonly symbols = new Map<string, DescFile>();
  /** extendee type name → extension number → file declaring the extension */
  private readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(services: readonly DescService[]) {
    for (const service of services) {
      if (!this.serviceNames.includes(service.typeName)) this.serviceNames.push(service.typeName);
      this.addFile(service.file);
    }
  }

  /** Answers one request; `sent` holds the names of files already sent on this stream and is updated. */
  answer(req: ReflectionRequest, sent: Set<string>): ReflectionAnswer {
    const { messageRequest: r } = req;
    switch (r.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.serviceNames.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.fileAnswer(this.files.get(r.value), `file ${r.value}`, sent);
      case "fileContainingSymbol":
        return this.fileAnswer(this.symbols.get(stripDot(r.value)), `symbol ${r.value}`, sent);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = r.value;
        const file = this.extensions.get(stripDot(containingType))?.get(extensionNumber);
        return this.fileAnswer(file, `extension ${extensionNumber} of ${containingType}`, sent);
      }
      case "allExtensionNumbersOfType": {
        const typeName = stripDot(r.value);
        const file = this.symbols.get(typeName);
        const isMessage = file !== undefined && findMessage(file, typeName) !== undefined;
        if (!isMessage) return notFound(`message type ${r.value}`);
        const numbers = [...(this.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: typeName, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" } };
    }
  }

  private fileAnswer(file: DescFile | undefined, what: string, sent: Set<string>): ReflectionAnswer {
    if (file === undefined) return notFound(what);
    const closure = [file, ...transitiveDependencies(file).filter((dep) => !sent.has(fileName(dep)))];
    for (const f of closure) sent.add(fileName(f));
    const fileDescriptorProto = closure.map((f) => this.encode(f));
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(fileName(file));
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(fileName(file), bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(fileName(file))) return;
    this.files.set(fileName(file), file);
    for (const dep of file.dependencies) this.addFile(dep);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) this.addMessage(file, message);
    for (const e of file.enums) this.addEnum(file, e.typeName, e.values);
    for (const ext of file.extensions) this.addExtension(file, ext.typeName, ext.extendee.typeName, ext.number);
  }

  private addMessage(file: DescFile, message: DescMessage): void {
    this.symbols.set(message.typeName, file);
    for (const member of [...message.fields, ...message.oneofs]) {
      this.symbols.set(`${message.typeName}.${member.name}`, file);
    }
    for (const nested of message.nestedMessages) this.addMessage(file, nested);
    for (const e of message.nestedEnums) this.addEnum(file, e.typeName, e.values);
    for (const ext of message.nestedExtensions) {
      this.addExtension(file, ext.typeName, ext.extendee.typeName, ext.number);
    }
  }

  private addEnum(file: DescFile, typeName: string, values: readonly { name: string }[]): void {
    this.symbols.set(typeName, file);
    // Enum values are scoped as siblings of their enum, not as its children.
    const scope = typeName.slice(0, typeName.lastIndexOf(".") + 1);
    for (const value of values) this.symbols.set(`${scope}${value.name}`, file);
  }

  private addExtension(file: DescFile, typeName: string, extendee: string, no: number): void {
    this.symbols.set(typeName, file);
    let byNumber = this.extensions.get(extendee);
    if (byNumber === undefined) this.extensions.set(extendee, (byNumber = new Map()));
    byNumber.set(no, file);
  }
}

/** The file's imports and their imports, each once, depth first, excluding the file itself. */
function transitiveDependencies(file: DescFile): DescFile[] {
  const seen = new Set<string>([fileName(file)]);
  const out: DescFile[] = [];
  const visit = (f: DescFile): void => {
    for (const dep of f.dependencies) {
      if (seen.has(fileName(dep))) continue;
      seen.add(fileName(dep));
      out.push(dep);
      visit(dep);
    }
  };
  visit(file);
  return out;
}

function findMessage(file: DescFile, typeName: string): DescMessage | undefined {
  const search = (messages: readonly DescMessage[]): DescMessage | undefined => {
    for (const m of messages) {
      if (m.typeName === typeName) return m;
      const nested = search(m.nestedMessages);
      if (nested !== undefined) return nested;
    }
    return undefined;
  };
  return search(file.messages);
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

function notFound(what: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

/** The file's path as protoc names it and as reflection clients ask for it (`DescFile.name` drops ".proto"). */
function fileName(file: DescFile): string {
  return file.proto.name;
}
