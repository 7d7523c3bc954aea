/**
 * Running streams over a WebSocket: sending with backpressure (a bounded send buffer, then close
 * 4408 "too slow"), and the single-stream socket of a subscribe path. Liveness (ping/pong plus a
 * heartbeat frame) is ws-liveness.ts.
 *
 * What a socket keeps while idle matters more than anything else here (one per subscriber):
 * per stream there is one sink object and the pump; everything else is shared.
 */
import { WebSocket } from "ws";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Frame } from "../../realtime/stream-contract.js";
import type { OpenStream, StreamTarget } from "../streams/stream-open.js";
import { type FrameSink, type PumpObserver, runPump, within } from "../streams/stream-pump.js";
import { CLOSE, closeFor, serverFrame } from "./ws-frames.js";
import type { MessageEncodings } from "../streams/message-encodings.js";

/** Limits and observers shared by every WebSocket. */
export interface SocketOptions {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Interval of pings and heartbeat frames; a peer that misses a pong for one interval is dropped. */
  readonly heartbeatMs: number;
  readonly sendBufferBytes: number;
  readonly slowClientMs: number;
  /** The node's one encoding cache: a message's frame is encoded once, whatever the fan-out. */
  readonly encodings: MessageEncodings;
}

/** Sends a text frame if the socket is open; drops it otherwise. */
export function sendText(ws: WebSocket, data: string | Buffer): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: false });
}

/**
 * A stream's sink on a socket: below the send-buffer bound a frame is queued at once; above it,
 * the sender waits (up to slowClientMs) until that frame reached the network. Counts the stream
 * in openStreams{transport="ws"} until it ends, then hands its end to `onEnd`.
 */
class SocketSink implements FrameSink {
  constructor(
    private readonly ws: WebSocket,
    private readonly target: StreamTarget,
    private readonly options: SocketOptions,
    private readonly onEnd: (ws: WebSocket, ended: unknown) => void,
  ) {
    options.metrics.openStreams.inc({ transport: "ws" });
  }

  // Not async: the common case (queued at once) returns true, allocating nothing per frame and
  // subscriber (and lets the pump be pushed the next frame).
  trySend(frame: Frame): boolean | Promise<boolean> {
    const { ws, options } = this;
    const data = serverFrame(frame, this.target, options.encodings);
    if (data === undefined || ws.readyState !== WebSocket.OPEN) return true;
    if (ws.bufferedAmount <= options.sendBufferBytes) {
      ws.send(data, { binary: false });
      return true;
    }
    return within(options.slowClientMs, (done) => {
      ws.send(data, { binary: false }, () => done());
      return () => undefined;
    });
  }

  ended(ended: unknown): void {
    this.options.metrics.openStreams.dec({ transport: "ws" });
    this.onEnd(this.ws, ended);
  }
}

/** One pump observer per options object, not one per stream. */
const observers = new WeakMap<SocketOptions, PumpObserver>();

function observerFor(options: SocketOptions): PumpObserver {
  let observer = observers.get(options);
  if (!observer) observers.set(options, (observer = { metrics: options.metrics, logger: options.logger, transport: "ws" }));
  return observer;
}

/** Pumps a stream into the socket, counted in openStreams{transport="ws"}; resolves with how it ended (see pumpFrames). Never rejects. */
export function pumpToSocket(ws: WebSocket, stream: OpenStream, options: SocketOptions): Promise<unknown> {
  return new Promise((resolve) => runPump(stream, new SocketSink(ws, stream.target, options, (_ws, ended) => resolve(ended)), observerFor(options)));
}

/**
 * The 'error' listener of every socket of an edge (one function, `this` is the socket). `ws`
 * emits 'error' when the peer breaks the WebSocket protocol — an unmasked frame, RSV bits, an
 * unknown opcode, a bad close code (it closes the socket with 1002), text that is not UTF-8
 * (1007), a frame over the size limit (1009) — after it has begun closing that socket with the
 * code; the socket's 'close' then cleans up as for any close. Without a listener the event
 * would be an uncaught exception ending the process, every other socket with it. A client's
 * violation (a WS_ERR_* code) is logged at info, anything else at warn; neither with a stack.
 */
export function socketErrorListener(logger: Logger): (this: WebSocket, error: Error) => void {
  return function onSocketError(error) {
    const code = (error as NodeJS.ErrnoException).code;
    const line = { code, reason: error.message };
    if (code?.startsWith("WS_ERR_")) logger.info(line, "websocket closed: the client broke the protocol");
    else logger.warn(line, "websocket failed");
  };
}

/** A subscribe path's socket only receives: any frame from the client closes it with 4400. */
function refuseClientFrame(this: WebSocket): void {
  this.close(CLOSE.badFrame, "this socket only receives; use /ws to send");
}

/** Closes a subscribe path's socket for how its stream ended, unless it is closing already. */
function closeForEnd(ws: WebSocket, ended: unknown): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ended === undefined) return ws.close(CLOSE.goingAway, "server is stopping: reconnect");
  const { code, reason } = closeFor(ended);
  ws.close(code, reason);
}

/**
 * Serves one open stream on a subscribe path's socket until it ends; the caller closes the
 * stream when the socket closes. Closes the socket with 1001 when the server stops, 4401 when
 * the session ends, 4408 when the client is too slow, 1011 on a server error.
 */
export function serveStreamSocket(ws: WebSocket, stream: OpenStream, options: SocketOptions): void {
  ws.on("message", refuseClientFrame);
  runPump(stream, new SocketSink(ws, stream.target, options, closeForEnd), observerFor(options));
}
