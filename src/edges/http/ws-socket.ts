/**
 * Running streams over a WebSocket: liveness (ping/pong plus a heartbeat frame), sending with
 * backpressure (a bounded send buffer, then close 4408 "too slow"), and the single-stream socket
 * of a subscribe path.
 */
import { WebSocket } from "ws";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Frame } from "../../realtime/subscription.js";
import type { OpenStream, StreamTarget } from "./stream-open.js";
import { pumpFrames, type SendFrame, within } from "./stream-pump.js";
import { CLOSE, closeFor, heartbeatFrame, serverFrame } from "./ws-frames.js";

/** Limits and observers shared by every WebSocket. */
export interface SocketOptions {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Interval of pings and heartbeat frames; a peer that misses a pong for one interval is dropped. */
  readonly heartbeatMs: number;
  readonly sendBufferBytes: number;
  readonly slowClientMs: number;
}

/** Pings and sends a heartbeat frame every interval; terminates a peer that did not pong. Returns stop(). */
export function keepAlive(ws: WebSocket, heartbeatMs: number): () => void {
  let alive = true;
  const onPong = () => (alive = true);
  ws.on("pong", onPong);
  const timer = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
    sendText(ws, heartbeatFrame());
  }, heartbeatMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    ws.off("pong", onPong);
  };
}

/** Sends a text frame if the socket is open; drops it otherwise. */
export function sendText(ws: WebSocket, data: string | Buffer): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: false });
}

const SENT: Promise<boolean> = Promise.resolve(true);

/**
 * A SendFrame for one stream on a socket: below the send-buffer bound a frame is queued at once;
 * above it, the sender waits (up to slowClientMs) until that frame reached the network.
 */
export function socketSender(ws: WebSocket, target: StreamTarget, options: SocketOptions): SendFrame {
  // Not async: the common case (queued at once) returns one shared settled promise instead of
  // allocating a new one per frame and subscriber.
  return (frame: Frame) => {
    const data = serverFrame(frame, target);
    if (data === undefined || ws.readyState !== WebSocket.OPEN) return SENT;
    if (ws.bufferedAmount <= options.sendBufferBytes) {
      ws.send(data, { binary: false });
      return SENT;
    }
    return within(options.slowClientMs, (done) => {
      ws.send(data, { binary: false }, () => done());
      return () => undefined;
    });
  };
}

/** Pumps a stream into the socket, counted in openStreams{transport="ws"}; resolves with how it ended (see pumpFrames). */
export async function pumpToSocket(ws: WebSocket, stream: OpenStream, options: SocketOptions): Promise<unknown> {
  options.metrics.openStreams.inc({ transport: "ws" });
  try {
    return await pumpFrames(stream, socketSender(ws, stream.target, options), { ...options, transport: "ws" });
  } finally {
    options.metrics.openStreams.dec({ transport: "ws" });
  }
}

/**
 * Serves one open stream on a subscribe path's socket, which only receives: any frame from the
 * client closes it with 4400. Closes with 1001 when the server stops, 4401 when the session
 * ends, 4408 when the client is too slow, 1011 on a server error.
 */
export async function serveStreamSocket(ws: WebSocket, stream: OpenStream, options: SocketOptions): Promise<void> {
  const stop = keepAlive(ws, options.heartbeatMs);
  ws.on("message", () => ws.close(CLOSE.badFrame, "this socket only receives; use /ws to send"));
  try {
    const ended = await pumpToSocket(ws, stream, options);
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ended === undefined) {
      ws.close(CLOSE.goingAway, "server is stopping: reconnect");
      return;
    }
    const { code, reason } = closeFor(ended);
    ws.close(code, reason);
  } finally {
    stop();
  }
}
