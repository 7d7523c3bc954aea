/**
 * Subscribers over connect-node clients: gRPC (h2c, one HTTP/2 connection per user carrying
 * all of its streams) and the Connect protocol over HTTP/1.1 (one connection per stream).
 * These clients decode each frame, as a real client would; the marker is read from the text.
 */
import { connect } from "node:net";
import { Agent } from "node:http";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../../../gen/chat/v1/message_pb.js";
import type { Target } from "../protocol.js";
import type { ChannelKind, ClientConnection, OpenOptions, Transport } from "./client.js";
import type { Receipts } from "../receipts.js";

type Messages = Client<typeof MessageService>;
type Frames = AsyncIterable<{ frame: { case: string | undefined; value?: unknown } }>;

/** A gRPC client whose one HTTP/2 connection leaves from `localAddress`. */
export function grpcMessages(target: Target, localAddress: string): Messages {
  const transport = createGrpcTransport({
    baseUrl: `http://${target.host}:${target.port}`,
    nodeOptions: { createConnection: () => connect({ host: target.host, port: target.port, localAddress, noDelay: true }) },
    // Streams stay open for minutes; keep the connection without pinging.
    idleConnectionTimeoutMs: 3_600_000,
  });
  return createClient(MessageService, transport);
}

function connectMessages(target: Target, localAddress: string): Messages {
  const transport = createConnectTransport({
    baseUrl: `http://${target.host}:${target.port}`,
    httpVersion: "1.1",
    useBinaryFormat: true,
    nodeOptions: { agent: new Agent({ keepAlive: true, localAddress }) },
  });
  return createClient(MessageService, transport);
}

/** Runs one stream: resolves on ready, then records frames until it ends. */
function follow(frames: () => Frames, receipts: Receipts, isClosing: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = false;
    void (async () => {
      try {
        for await (const { frame } of frames()) {
          if (!ready) {
            if (frame.case !== "ready") throw new Error(`first frame was ${frame.case}`);
            ready = true;
            receipts.open++;
            resolve();
            continue;
          }
          if (frame.case === "message") {
            if (!receipts.text((frame.value as { text: string }).text)) receipts.error("unexpected_frame", "message without marker");
          } else if (frame.case === "heartbeat") receipts.heartbeats++;
          else receipts.error("unexpected_frame", frame.case);
        }
        if (ready && !isClosing()) receipts.error("stream_ended", "server ended the stream");
      } catch (error) {
        if (!ready) reject(error);
        else if (!isClosing()) receipts.error("stream_ended", error);
      } finally {
        if (ready) receipts.open--;
      }
    })();
  });
}

function rpcTransport(make: (target: Target, localAddress: string) => Messages, multiplexes: boolean): Transport {
  return {
    multiplexes,
    async open(options: OpenOptions): Promise<ClientConnection> {
      const messages = make(options.target, options.localAddress);
      const controller = new AbortController();
      const headers = { authorization: `Bearer ${options.user.token}` };
      const call = { signal: controller.signal, headers, timeoutMs: 0 };
      const closing = () => controller.signal.aborted;
      const start = (channel: ChannelKind): Frames =>
        channel === "room"
          ? messages.subscribeRoom({ roomId: options.user.roomId ?? "" }, call)
          : messages.subscribeDirectMessages({}, call);
      try {
        await Promise.all(options.channels.map((channel) => follow(() => start(channel), options.receipts, closing)));
      } catch (error) {
        controller.abort();
        throw error;
      }
      return { streams: options.channels.length, close: () => controller.abort() };
    },
  };
}

export const grpcTransport: Transport = rpcTransport(grpcMessages, true);
export const connectTransport: Transport = rpcTransport(connectMessages, false);
