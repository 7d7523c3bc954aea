/**
 * A lean gRPC client for MessageService.PostMessage, straight on node:http2: one h2c
 * connection, one HTTP/2 stream per call, the protobuf request in one length-prefixed message,
 * the answer checked by its grpc-status and decoded. It is the gRPC protocol as any client
 * speaks it, without a general-purpose client stack around it — so that the ingest load
 * generator costs less CPU per post than the server it measures (they share the machine).
 */
import { connect as netConnect } from "node:net";
import { connect as h2Connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type PostMessageResponse,
  PostMessageRequestSchema,
  PostMessageResponseSchema,
} from "../../../gen/chat/v1/message_pb.js";
import type { Target } from "../protocol.js";

const PATH = "/chat.v1.MessageService/PostMessage";

/** Posts over one HTTP/2 connection leaving from `localAddress`, with the user's bearer token. */
export class GrpcPoster {
  readonly #session: ClientHttp2Session;
  readonly #headers: Record<string, string>;

  constructor(target: Target, localAddress: string, token: string) {
    this.#session = h2Connect(`http://${target.host}:${target.port}`, {
      createConnection: () => netConnect({ host: target.host, port: target.port, localAddress, noDelay: true }),
    });
    this.#session.on("error", () => {}); // each call reports its own failure
    this.#headers = {
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: PATH,
      "content-type": "application/grpc+proto",
      te: "trailers",
      "grpc-timeout": "30S",
      authorization: `Bearer ${token}`,
    };
  }

  /** Resolves with the stored message's response; rejects with a ConnectError carrying the gRPC code. */
  post(roomId: string, text: string): Promise<PostMessageResponse> {
    const body = toBinary(PostMessageRequestSchema, create(PostMessageRequestSchema, { roomId, text }));
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    return new Promise((resolve, reject) => {
      const stream = this.#session.request(this.#headers, { endStream: false });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = "";
      const note = (headers: IncomingHttpHeaders) => {
        const s = headers["grpc-status"];
        if (typeof s === "string") {
          status = s;
          const m = headers["grpc-message"];
          message = typeof m === "string" ? decodeURIComponent(m) : "";
        }
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
