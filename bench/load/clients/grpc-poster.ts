/**
 * A lean gRPC client for MessageService.PostMessage, straight on node:http2: one h2c
 * connection, one HTTP/2 stream per call, the protobuf request in one length-prefixed message,
 * the answer checked by its grpc-status and decoded. It is the gRPC protocol as any client
 * speaks it, without a general-purpose client stack around it — so that the ingest load
 * generator costs less CPU per post than the server it measures (they share the machine).
 */
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type PostMessageResponse,
  PostMessageRequestSchema,
  PostMessageResponseSchema,
} from "../../../gen/chat/v1/message_pb.js";
import type { Target } from "../protocol.js";
import { envelope } from "./envelopes.js";
import { grpcRequestHeaders, grpcStatusOf, openH2c } from "./grpc-h2.js";

const PATH = "/chat.v1.MessageService/PostMessage";

/** Posts over one HTTP/2 connection leaving from `localAddress`, with the user's bearer token. */
export class GrpcPoster {
  readonly #session: ClientHttp2Session;
  readonly #headers: OutgoingHttpHeaders;

  constructor(target: Target, localAddress: string, token: string) {
    this.#session = openH2c(target, localAddress);
    this.#headers = grpcRequestHeaders(PATH, token, { "grpc-timeout": "30S" });
  }

  /** Resolves with the stored message's response; rejects with a ConnectError carrying the gRPC code. */
  post(roomId: string, text: string): Promise<PostMessageResponse> {
    const body = toBinary(PostMessageRequestSchema, create(PostMessageRequestSchema, { roomId, text }));
    const frame = envelope(body);
    return new Promise((resolve, reject) => {
      const stream = this.#session.request(this.#headers, { endStream: false });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = "";
      const note = (headers: IncomingHttpHeaders) => {
        const found = grpcStatusOf(headers);
        if (!found) return;
        status = found.status;
        message = found.message;
      };
      stream.on("response", note);
      stream.on("trailers", note);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error) => reject(new ConnectError(error.message, Code.Unavailable)));
      stream.on("close", () => {
        if (status === undefined) return reject(new ConnectError("stream closed without grpc-status", Code.Unavailable));
        if (status !== "0") return reject(new ConnectError(message, Number(status) as Code));
        const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (data.length < 5 || data[0] !== 0) return reject(new ConnectError("bad response frame", Code.Internal));
        resolve(fromBinary(PostMessageResponseSchema, data.subarray(5, 5 + data.readUInt32BE(1))));
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.#session.close();
  }
}
