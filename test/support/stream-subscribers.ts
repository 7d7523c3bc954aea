/**
 * Subscribe streams over every RPC protocol the server speaks, read the same way in tests:
 * grpc-js (gRPC over HTTP/2), connect-node's gRPC transport, gRPC-Web and Connect (binary and
 * JSON) over HTTP/1.1. Frames are collected in the background; the end of the stream resolves
 * `ended` with its status code (0 = OK, else the Connect/gRPC code) and message. Reading can be
 * paused, so that the server sees a slow reader.
 */
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import type { Presence, ReadState, Typing } from "../../gen/chat/v1/types_pb.js";
import { bearer, grpcJsClient, serverStream } from "./grpc-js-client.js";

export const STREAM_PROTOCOLS = ["grpc-js", "grpc", "grpc-web", "connect-proto", "connect-json"] as const;
export type StreamProtocol = (typeof STREAM_PROTOCOLS)[number];

/** The wire protocol label the server's fast-path metric uses for each client. */
export const WIRE_PROTOCOL: Record<StreamProtocol, "grpc" | "grpc-web" | "connect"> = {
  "grpc-js": "grpc",
  grpc: "grpc",
  "grpc-web": "grpc-web",
  "connect-proto": "connect",
  "connect-json": "connect",
};

export interface StreamFrame {
  readonly case: string;
  /** Message text and id, for message frames. */
  readonly text?: string;
  readonly id?: string;
  /** The read state, for read frames (direct-message streams). */
  readonly read?: ReadState;
  /** Who is typing, for typing frames (room and direct-message streams). */
  readonly typing?: Typing;
  /** Who has the room open, for presence frames (room streams that asked). */
  readonly presence?: Presence;
  /** The position, for Ready frames. */
  readonly position?: string;
  /** The room's name, for the room list's `created` frames (`id` is its room id). */
  readonly name?: string;
}

export interface StreamEnd {
  readonly code: number;
  readonly message: string;
}

export interface Subscriber {
  readonly protocol: StreamProtocol;
  readonly frames: StreamFrame[];
  readonly ended: Promise<StreamEnd>;
  /** Resolves once `check` holds for the frames so far; rejects after `timeoutMs` or if the stream ends first. */
  until(check: (frames: readonly StreamFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops reading (the server then sees a slow reader); resume() reads on. */
  pause(): void;
  resume(): void;
  /** Cancels the stream from the client side. */
  cancel(): void;
}

export type SubscribeTarget =
  | { readonly roomId: string; readonly since?: string; readonly presence?: boolean }
  | { readonly direct: true; readonly since?: string }
  /** The room list (RoomService.WatchRooms). */
  | { readonly rooms: true; readonly since?: string };

type FrameMessage = { frame: { case: string | undefined; value?: unknown } };

/** Opens a subscribe stream with `token` over `protocol`. */
export function subscribe(protocol: StreamProtocol, baseUrl: string, token: string | undefined, target: SubscribeTarget): Subscriber {
  const frames: StreamFrame[] = [];
  // until() re-checks when a frame arrives or the stream ends, instead of polling.
  const watchers = new Set<() => void>();
  const wake = () => {
    for (const watcher of [...watchers]) watcher();
  };
  const record = (res: FrameMessage) => {
    const value = res.frame.value as { text?: string; messageId?: string } | undefined;
    if (res.frame.case === "message") frames.push({ case: "message", text: value?.text ?? "", id: value?.messageId ?? "" });
    else if (res.frame.case === "read") frames.push({ case: "read", read: res.frame.value as ReadState });
    else if (res.frame.case === "typing") frames.push({ case: "typing", typing: res.frame.value as Typing });
    else if (res.frame.case === "presence") frames.push({ case: "presence", presence: res.frame.value as Presence });
    else if (res.frame.case === "created") {
      const room = res.frame.value as { roomId: string; name: string };
      frames.push({ case: "created", id: room.roomId, name: room.name });
    } else if (res.frame.case === "ready") frames.push({ case: "ready", position: (res.frame.value as { position: string }).position });
    else frames.push({ case: res.frame.case ?? "" });
    wake();
  };
  let finished: StreamEnd | undefined;
  const control = protocol === "grpc-js" ? grpcJsStream(baseUrl, token, target, record) : connectStream(protocol, baseUrl, token, target, record);
  const ended = control.ended.then((end) => {
    finished = end;
    wake();
    return end;
  });
  return {
    protocol,
    frames,
    ended,
    until(check, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const stop = () => {
          clearTimeout(timer);
          watchers.delete(watcher);
        };
        const watcher = () => {
          if (check(frames)) {
            stop();
            resolve();
          } else if (finished) {
            stop();
            reject(new Error(`${protocol}: stream ended (${JSON.stringify(finished)}) with ${JSON.stringify(frames)}`));
          }
        };
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`${protocol}: timed out with ${JSON.stringify(frames)}`));
        }, timeoutMs);
        watchers.add(watcher);
        watcher();
      });
    },
    pause: control.pause,
    resume: control.resume,
    cancel: control.cancel,
  };
}

interface StreamControl {
  readonly ended: Promise<StreamEnd>;
  pause(): void;
  resume(): void;
  cancel(): void;
}

function grpcJsStream(baseUrl: string, token: string | undefined, target: SubscribeTarget, record: (res: FrameMessage) => void): StreamControl {
  const client = grpcJsClient("rooms" in target ? RoomService : MessageService, new URL(baseUrl).host);
  const metadata = token ? bearer(token) : undefined;
  const stream: grpc.ClientReadableStream<FrameMessage> =
    "roomId" in target
      ? serverStream(client, "subscribeRoom", { roomId: target.roomId, since: target.since ?? "", presence: target.presence ?? false }, metadata)
      : "rooms" in target
        ? serverStream(client, "watchRooms", { since: target.since ?? "" }, metadata)
        : serverStream(client, "subscribeDirectMessages", { since: target.since ?? "" }, metadata);
  stream.on("data", record);
  const ended = new Promise<StreamEnd>((resolve) => {
    // connect-es percent-encodes grpc-message with encodeURIComponent; grpc-js leaves reserved characters (":") encoded.
    stream.on("error", (error: grpc.ServiceError) => resolve({ code: error.code, message: decodeURIComponent(error.details) }));
    stream.on("status", (status: grpc.StatusObject) => {
      if (status.code === 0) resolve({ code: 0, message: status.details });
    });
  });
  void ended.finally(() => client.close());
  return { ended, pause: () => stream.pause(), resume: () => stream.resume(), cancel: () => stream.cancel() };
}

function connectStream(
  protocol: Exclude<StreamProtocol, "grpc-js">,
  baseUrl: string,
  token: string | undefined,
  target: SubscribeTarget,
  record: (res: FrameMessage) => void,
): StreamControl {
  const auth: Interceptor = (next) => (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const options = { baseUrl, interceptors: [auth] };
  const transport: Transport =
    protocol === "grpc"
      ? createGrpcTransport(options)
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ ...options, httpVersion: "1.1" })
        : createConnectTransport({ ...options, httpVersion: "1.1", useBinaryFormat: protocol === "connect-proto" });
  const client = createClient(MessageService, transport);
  const controller = new AbortController();
  const call = { signal: controller.signal };
  const responses: AsyncIterable<FrameMessage> =
    "roomId" in target
      ? client.subscribeRoom({ roomId: target.roomId, since: target.since ?? "", presence: target.presence ?? false }, call)
      : "rooms" in target
        ? createClient(RoomService, transport).watchRooms({ since: target.since ?? "" }, call)
        : client.subscribeDirectMessages({ since: target.since ?? "" }, call);
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const ended = (async (): Promise<StreamEnd> => {
    try {
      for await (const res of responses) {
        record(res);
        if (gate) await gate.promise;
      }
      return { code: 0, message: "" };
    } catch (error) {
      const e = ConnectError.from(error);
      return { code: e.code === Code.Canceled ? Code.Canceled : e.code, message: e.rawMessage };
    }
  })();
  return {
    ended,
    pause() {
      if (gate) return;
      let open = () => {};
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    resume() {
      gate?.open();
      gate = undefined;
    },
    cancel: () => controller.abort(),
  };
}
