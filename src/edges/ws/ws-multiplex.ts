/**
 * The multiplexed socket, /ws: one authenticated WebSocket on which a client subscribes to any
 * number of rooms, its direct messages and the room list, and posts (frames in ws-frames.ts). Posts go through
 * the in-process Connect transport — the same handlers, validation, auth and rate limits as
 * every RPC; subscriptions through the same opener as SSE. Per request failures come back as
 * error frames; the socket closes for what concerns all of it: 4400 unreadable frame, 1007 JSON
 * nested too deeply, 4401 signed out or expired, 4408 too slow, 1001 server stopping (and the
 * protocol violations ws-frames.ts lists).
 */
import { create, toJson } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { WebSocket, type RawData } from "ws";
import { MessageService, SubscribeDirectMessagesRequestSchema, SubscribeRoomRequestSchema } from "../../../gen/chat/v1/message_pb.js";
import { WatchRoomsRequestSchema } from "../../../gen/chat/v1/room_pb.js";
import { MessageSchema } from "../../../gen/chat/v1/types_pb.js";
import { AlreadyExistsError, InvalidArgumentError, ResourceExhaustedError, UnauthenticatedError } from "../../domain/errors.js";
import type { StreamSessions } from "../../realtime/stream-sessions.js";
import { INTERNAL_IP_HEADER } from "../admission/client-address.js";
import type { RateLimiter } from "../admission/rate-limit.js";
import type { StreamCaller, StreamOpener, StreamTarget } from "../streams/stream-open.js";
import { type ClientFrame, parseClientFrame } from "./ws-client-frames.js";
import { describeFailure } from "../http/http-failure.js";
import { CLOSE, closeFor, errorFrame, targetFields } from "./ws-frames.js";
import type { SocketLiveness } from "./ws-liveness.js";
import { pumpToSocket, sendText, type SocketOptions } from "./ws-socket.js";

/** Most subscriptions one socket may hold at once. */
export const MAX_SUBSCRIPTIONS = 100;

/** What the /ws protocol needs: the stream opener (admission included), the in-process transport for posts, sessions. */
export interface MultiplexDeps extends SocketOptions {
  readonly opener: StreamOpener;
  readonly transport: Transport;
  readonly sessions: StreamSessions;
  readonly shutdownSignal: AbortSignal;
}

/** Serves the /ws protocol on an upgraded socket for an authenticated caller, until it closes; `liveness` pings it. */
export function serveMultiplexSocket(ws: WebSocket, caller: StreamCaller, ip: string, deps: MultiplexDeps & { readonly liveness: SocketLiveness }): void {
  const closed = new AbortController();
  const signal = AbortSignal.any([closed.signal, deps.shutdownSignal]);
  // The socket's own session: signing out closes it even when it holds no subscription. Not a
  // stream itself, it does not count toward the per-user stream limit; each subscription does.
  const session = deps.sessions.openCarrier(caller.claims, signal);
  const subscriptions = new Map<string, AbortController>();
  // Posts and DMs from one socket are stored in the order they were sent.
  let sending: Promise<void> = Promise.resolve();
  deps.liveness.watch(ws);
  const end = (error: unknown) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (error === undefined) ws.close(CLOSE.goingAway, "server is stopping: reconnect");
    else ws.close(closeFor(error).code, closeFor(error).reason);
  };
  session.signal.addEventListener("abort", () => end(session.signal.reason instanceof UnauthenticatedError ? session.signal.reason : undefined), { once: true });
  ws.on("close", () => {
    closed.abort();
    session.close();
  });
  ws.on("message", (data: RawData, isBinary: boolean) => {
    try {
      receive(data, isBinary);
    } catch (error) {
      // Last resort: a bug in handling one frame ends this socket, not the process (the frame
      // arrived inside ws's socket listener, where a throw would be uncaught). Never expected.
      deps.logger.error({ err: error, user: caller.claims.userId }, "websocket frame handling failed");
      if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE.internalError, "internal error");
    }
  });

  function receive(data: RawData, isBinary: boolean): void {
    if (isBinary) return ws.close(CLOSE.badFrame, "send JSON text frames");
    const parsed = parseClientFrame(rawText(data));
    if (!parsed.ok) {
      if (parsed.fatal) ws.close(parsed.closeCode, parsed.message);
      else sendText(ws, errorFrame(new InvalidArgumentError(parsed.message), parsed.ref === undefined ? {} : { ref: parsed.ref }));
      return;
    }
    void handle(parsed.frame);
  }

  async function handle(frame: ClientFrame): Promise<void> {
    const context = { ...(frame.ref === undefined ? {} : { ref: frame.ref }) };
    try {
      switch (frame.type) {
        case "subscribe":
          return await subscribe(frame, context);
        case "unsubscribe": {
          const key = keyOf(frame.target);
          subscriptions.get(key)?.abort();
          subscriptions.delete(key);
          return sendText(ws, JSON.stringify({ type: "ack", ...context, ...targetFields(frame.target) }));
        }
        case "post":
        case "dm":
          sending = sending.then(() => send(frame, context));
          return await sending;
      }
    } catch (error) {
      report(error, context);
    }
  }

  /** Answers a failed request with an error frame; logs the cause of an unexpected failure. */
  function report(error: unknown, context: Record<string, unknown>): void {
    if (describeFailure(error).logCause) deps.logger.error({ err: error, user: caller.claims.userId }, "websocket request failed");
    sendText(ws, errorFrame(error, context));
  }

  async function subscribe(frame: Extract<ClientFrame, { type: "subscribe" }>, context: Record<string, string>): Promise<void> {
    const key = keyOf(frame.target);
    const where = { ...context, ...targetFields(frame.target) };
    if (subscriptions.has(key)) throw new AlreadyExistsError(`already subscribed to ${key}`);
    if (subscriptions.size >= MAX_SUBSCRIPTIONS) throw new ResourceExhaustedError(`at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`);
    if (frame.target.kind === "room") {
      deps.opener.validate(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId: frame.target.roomId, since: frame.since }));
    } else if (frame.target.kind === "rooms") {
      deps.opener.validate(WatchRoomsRequestSchema, create(WatchRoomsRequestSchema, { since: frame.since }));
    } else {
      deps.opener.validate(SubscribeDirectMessagesRequestSchema, create(SubscribeDirectMessagesRequestSchema, { since: frame.since }));
    }
    // Claimed before the first wait (the limits may ask the primary): a second subscribe to the same target is refused.
    const mine = new AbortController();
    subscriptions.set(key, mine);
    try {
      await deps.opener.admitAgain(caller, ip);
    } catch (error) {
      subscriptions.delete(key);
      throw error;
    }
    try {
      const stream = await deps.opener.open(caller, frame.target, frame.since, AbortSignal.any([signal, mine.signal]));
      const ended = await pumpToSocket(ws, stream, deps);
      if (ended === undefined) return;
      if (ended instanceof UnauthenticatedError || ended instanceof ResourceExhaustedError) return end(ended);
      sendText(ws, errorFrame(ended, where));
    } catch (error) {
      report(error, where);
    } finally {
      if (subscriptions.get(key) === mine) subscriptions.delete(key);
    }
  }

  async function send(frame: Extract<ClientFrame, { type: "post" | "dm" }>, context: Record<string, string>): Promise<void> {
    const header = new Headers({ authorization: caller.credentials.authorization, [INTERNAL_IP_HEADER]: ip });
    const echo = { ...context, ...(frame.clientMessageId ? { client_message_id: frame.clientMessageId } : {}) };
    try {
      const response =
        frame.type === "post"
          ? await deps.transport.unary(MessageService.method.postMessage, signal, undefined, header, {
              roomId: frame.roomId,
              text: frame.text,
              clientMessageId: frame.clientMessageId,
            })
          : await deps.transport.unary(MessageService.method.sendDirectMessage, signal, undefined, header, {
              recipient: "userId" in frame.to ? { case: "recipientUserId", value: frame.to.userId } : { case: "recipientUsername", value: frame.to.username },
              text: frame.text,
              clientMessageId: frame.clientMessageId,
            });
      const message = response.message.message;
      sendText(ws, JSON.stringify({ type: "ack", ...echo, message: message ? toJson(MessageSchema, message, { alwaysEmitImplicit: true }) : null }));
    } catch (error) {
      report(error, echo);
    }
  }
}

function keyOf(target: StreamTarget): string {
  return target.kind === "room" ? `room:${target.roomId}` : target.kind === "rooms" ? "rooms" : "dms";
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString("utf8");
}
