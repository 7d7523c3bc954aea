/**
 * Lean gRPC subscribers, straight on node:http2: one h2c connection (prior knowledge) per user
 * from its source address, carrying all of that user's subscribe streams. Each stream POSTs its
 * request as one envelope, reads the response envelopes as they arrive and ends on the trailers'
 * grpc-status. It is the gRPC protocol as any client speaks it, without a general-purpose client
 * stack decoding every frame into objects, so the load generator costs less CPU per delivery
 * than the server it measures (they share the machine).
 */
import { constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { ChannelKind, ClientConnection, OpenOptions, Transport } from "./client.js";
import { EnvelopeReader } from "./envelopes.js";
import { FrameFollower } from "./frame-follower.js";
import { grpcRequestHeaders, grpcStatusOf, openH2c } from "./grpc-h2.js";
import { subscribeCall } from "./subscribe-frames.js";

/** Opens one stream of `channel` on `session`; its follower tells when it is ready and counts what it receives. */
function subscribe(
  session: ClientHttp2Session,
  options: OpenOptions,
  channel: ChannelKind,
  isClosing: () => boolean,
): FrameFollower {
  const follower = new FrameFollower(options.receipts, isClosing, options.observer === true);
  const { path, body } = subscribeCall(options.user, channel, options.presence === true);
  const stream = session.request(grpcRequestHeaders(path, options.user.token), { endStream: false });
  let httpStatus: string | undefined;
  let grpcStatus: string | undefined;
  let grpcMessage = "";
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    stream.close(constants.NGHTTP2_CANCEL);
  };
  const reader = new EnvelopeReader((flags, bytes, start, end) => {
    if (failure !== undefined) return;
    if (flags !== 0) return fail(new Error(`envelope flags ${flags}`));
    follower.frame(bytes, start, end);
  });
  const note = (received: IncomingHttpHeaders) => {
    const found = grpcStatusOf(received);
    if (!found) return;
    grpcStatus = found.status;
    grpcMessage = found.message;
  };
  stream.on("response", (received) => {
    httpStatus = String(received[constants.HTTP2_HEADER_STATUS]);
    note(received);
  });
  stream.on("trailers", note);
  stream.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (error) {
      fail(error);
    }
  });
  stream.on("error", (error) => (failure ??= error));
  stream.on("close", () => follower.end(outcome()));
  stream.end(body);

  /** Why the stream ended: undefined for a clean grpc-status 0 after whole envelopes. */
  function outcome(): unknown {
    if (failure !== undefined) return failure;
    if (grpcStatus === undefined) return new Error(`stream closed without grpc-status (HTTP ${httpStatus ?? "-"}, rst ${stream.rstCode ?? "-"})`);
    if (grpcStatus !== "0") return new Error(`grpc-status ${grpcStatus}: ${grpcMessage}`);
    return reader.partial ? new Error("stream ended inside an envelope") : undefined;
  }
  return follower;
}

async function open(options: OpenOptions): Promise<ClientConnection> {
  const session = openH2c(options.target, options.localAddress);
  let closing = false;
  const close = () => {
    closing = true;
    session.destroy();
  };
  const followers = options.channels.map((channel) => subscribe(session, options, channel, () => closing));
  try {
    await Promise.all(followers.map((follower) => follower.ready));
  } catch (error) {
    close();
    throw error;
  }
  return { streams: followers.length, close };
}

/** gRPC over h2c: one HTTP/2 connection per user, all of its subscriptions as streams on it. */
export const grpcTransport: Transport = { multiplexes: true, open };
