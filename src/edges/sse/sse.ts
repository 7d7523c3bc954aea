/**
 * Server-Sent Events for the subscribe routes (`Accept: text/event-stream`), as EventSource
 * expects them: status 200; `event: ready` first (its `id:` is the Ready position); then one
 * `event: message` per message with `id:` = the message id and `data:` = the message as proto
 * JSON; `event: gap` when a resume skipped messages; on the direct-message route `event: read`
 * with `data:` = my new ReadState as proto JSON and no `id:` (a read frame is not a message: the
 * Last-Event-ID a reconnect sends stays the last message's); `event: typing` with `data:` = the
 * chat.v1.Typing as proto JSON and no `id:`, for the same reason (rooms: someone else typing in
 * the room; direct: someone typing to me); on the room-list route (/rooms/watch) `event: room`
 * with `id:` = the room id and `data:` = the chat.v1.Room as proto JSON; a comment line as heartbeat; and, when the
 * server ends the stream, `event: end` with {"code","message"} — "unauthenticated" (signed out
 * or expired: do not reconnect with the same credentials), "resource_exhausted" (too slow) or
 * "unavailable" (server stopping); EventSource then reconnects with Last-Event-ID by itself.
 */
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Frame } from "../../realtime/stream-contract.js";
import { describeFailure } from "../http/http-failure.js";
import { durationJson, type MessageEncodings, readStateJson, roomJson } from "../streams/message-encodings.js";
import type { AnyResponse } from "../http/respond.js";
import type { OpenStream } from "../streams/stream-open.js";
import { pumpFrames, writeBuffered } from "../streams/stream-pump.js";

/** Limits and observers of SSE streams. */
export interface SseOptions {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Unsent bytes above which the stream waits for its client to read. */
  readonly sendBufferBytes: number;
  /** How long it waits before closing the stream as too slow. */
  readonly slowClientMs: number;
  /** Milliseconds EventSource should wait before reconnecting. */
  readonly retryMs: number;
  /** The node's one encoding cache: a message's event is encoded once, whatever the fan-out. */
  readonly encodings: MessageEncodings;
}

/** Serves an open stream as SSE until it ends, then ends the response. Never rejects. */
export async function serveSse(res: AnyResponse, stream: OpenStream, options: SseOptions): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // Tell nginx-like proxies not to buffer the stream.
    "x-accel-buffering": "no",
  });
  res.write(`retry: ${options.retryMs}\n\n`);
  options.metrics.openStreams.inc({ transport: "sse" });
  const send = (frame: Frame): boolean | Promise<boolean> => writeBuffered(res, sseEvent(frame, options.encodings), options);
  try {
    const ended = await pumpFrames(stream, send, { ...options, transport: "sse" });
    if (res.destroyed || res.writableEnded) return;
    const failure = ended === undefined ? { code: "unavailable", message: "server is stopping: reconnect" } : describeFailure(ended);
    res.end(`event: end\ndata: ${JSON.stringify({ code: failure.code, message: failure.message })}\n\n`);
  } finally {
    options.metrics.openStreams.dec({ transport: "sse" });
  }
}

/** The SSE text of one frame; messages come encoded once from the encoding cache. */
function sseEvent(frame: Frame, encodings: MessageEncodings): Buffer | string {
  switch (frame.kind) {
    case "message":
      return encodings.sseEvent(frame.message);
    case "ready":
      return `id: ${frame.position}\nevent: ready\ndata: ${JSON.stringify({ position: frame.position, heartbeatInterval: durationJson(frame.heartbeatMs) })}\n\n`;
    case "gap":
      return `event: gap\ndata: ${JSON.stringify({ after: frame.after, before: frame.before })}\n\n`;
    case "heartbeat":
      return `: heartbeat ${new Date(frame.atMs).toISOString()}\n\n`;
    case "read":
      // No `id:`: EventSource would resume from it, and it is no position.
      return `event: read\ndata: ${JSON.stringify(readStateJson(frame.state))}\n\n`;
    case "typing":
      // No `id:` either: cached per frame, shared by every stream of the channel.
      return encodings.typingSseEvent(frame);
    case "room":
      // The room id is the room list's cursor: EventSource resumes from it (Last-Event-ID).
      return `id: ${frame.room.id}\nevent: room\ndata: ${JSON.stringify(roomJson(frame.room))}\n\n`;
    case "presence":
      return encodings.presenceSseEvent(frame);
  }
}
