/**
 * Liveness of an edge's WebSockets on one timer: every period, each watched socket that has not
 * answered the previous ping is terminated, and every other one gets a ping and a heartbeat
 * frame. A peer that misses a pong for one period is therefore dropped, as with a timer per
 * socket — but an idle socket costs one map entry here, not a timer and three closures.
 */
import { WebSocket } from "ws";
import { heartbeatFrame } from "./ws-frames.js";

export class SocketLiveness {
  /** Each watched socket, and whether it answered the last ping (true until the first one). */
  readonly #sockets = new Map<WebSocket, boolean>();
  #timer: NodeJS.Timeout | undefined;
  // Shared by every socket: `this` is the socket the event is for.
  readonly #onPong: (this: WebSocket) => void;
  readonly #onClose: (this: WebSocket) => void;

  constructor(readonly periodMs: number) {
    const sockets = this.#sockets;
    this.#onPong = function () {
      if (sockets.has(this)) sockets.set(this, true);
    };
    const liveness = this;
    this.#onClose = function () {
      liveness.unwatch(this);
    };
  }

  /** Pings the socket and sends it heartbeat frames until it closes or unwatch(). */
  watch(ws: WebSocket): void {
    if (this.#sockets.has(ws)) return;
    this.#sockets.set(ws, true);
    ws.on("pong", this.#onPong);
    ws.on("close", this.#onClose);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.periodMs);
      this.#timer.unref();
    }
  }

  /** Stops watching a socket; a no-op when it is not watched. */
  unwatch(ws: WebSocket): void {
    if (!this.#sockets.delete(ws)) return;
    ws.off("pong", this.#onPong);
    ws.off("close", this.#onClose);
    if (this.#sockets.size === 0) this.stop();
  }

  /** Every watched socket: every open WebSocket of the edge. */
  sockets(): IterableIterator<WebSocket> {
    return this.#sockets.keys();
  }

  /** Stops the timer (the server is stopping); watch() starts it again. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const heartbeat = heartbeatFrame();
    for (const [ws, answered] of this.#sockets) {
      if (!answered) {
        ws.terminate();
        continue;
      }
      this.#sockets.set(ws, false);
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.ping();
      ws.send(heartbeat, { binary: false });
    }
  }
}
