/**
 * Deadlines of the h2c server's sessions and streams, kept on one shared sweep (the listener's):
 *
 * - a new session must receive the client's first SETTINGS within `firstBytesMs` (a client that
 *   sends the preface and then nothing is destroyed);
 * - a session with no open stream for `idleMs` is closed with GOAWAY — as Go's IdleTimeout: PINGs
 *   do not keep it open, an open stream does however quiet it is (a subscription between
 *   heartbeats, a health Watch), and GOAWAY tells the client it may reconnect without losing a call;
 * - a stream's request must arrive whole (END_STREAM) within `requestMs` of its headers, or the
 *   stream is reset (CANCEL). What the response does afterwards is not bounded here: server
 *   streams last as long as their subscription.
 *
 * Streams are counted through Node's `http2.server.stream.created` / `.close` diagnostics
 * channels, which see each stream while it still knows its session: no listener or closure per
 * stream or session. Per session the cost is one map entry (open streams) — and one more while it
 * is idle or has not sent SETTINGS; per stream, an entry until its request has arrived.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { constants, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";

/** The limits, in milliseconds (see ConnectionLimits in config.ts). */
export interface H2Limits {
  readonly firstBytesMs: number;
  readonly idleMs: number;
  readonly requestMs: number;
}

/** Why a session or stream was ended by a deadline (for metrics). */
export type H2Expiry = "h2_settings" | "h2_idle" | "h2_request";

/** Before its first SETTINGS a session's stream count reads -1. */
const HANDSHAKING = -1;

export class H2Deadlines {
  /** Open streams of every session of the server (HANDSHAKING before the client's SETTINGS). */
  readonly #open = new Map<ServerHttp2Session, number>();
  /** Sessions waiting for SETTINGS or idle, and when they must have done something. */
  readonly #sessions = new Map<ServerHttp2Session, number>();
  /** Streams whose request has not fully arrived yet, and when it must have. */
  readonly #requests = new Map<ServerHttp2Stream, number>();
  readonly #onCreated: (message: unknown) => void;
  readonly #onClosed: (message: unknown) => void;

  constructor(
    server: Http2Server,
    private readonly limits: H2Limits,
    private readonly onExpired: (why: H2Expiry) => void,
  ) {
    const open = this.#open;
    const sessions = this.#sessions;
    const requests = this.#requests;
    // Shared by every session: `this` is the session.
    const onSettings = function (this: ServerHttp2Session): void {
      this.off("remoteSettings", onSettings);
      if (open.get(this) !== HANDSHAKING) return;
      open.set(this, 0);
      sessions.set(this, performance.now() + limits.idleMs);
    };
    const onClose = function (this: ServerHttp2Session): void {
      open.delete(this);
      sessions.delete(this);
    };
    server.on("session", (session: ServerHttp2Session) => {
      open.set(session, HANDSHAKING);
      sessions.set(session, performance.now() + limits.firstBytesMs);
      // on(), not once(): once() wraps each listener in a closure of its own.
      session.on("remoteSettings", onSettings);
      session.on("close", onClose);
    });
    this.#onCreated = (message) => {
      const stream = (message as { stream: ServerHttp2Stream }).stream;
      const session = stream.session as ServerHttp2Session | undefined;
      const count = session && open.get(session);
      if (count === undefined) return; // another server's stream
      open.set(session!, Math.max(count, 0) + 1);
      sessions.delete(session!);
      requests.set(stream, performance.now() + limits.requestMs);
    };
    this.#onClosed = (message) => {
      const stream = (message as { stream: ServerHttp2Stream }).stream;
      requests.delete(stream);
      const session = stream.session as ServerHttp2Session | undefined;
      const count = session && open.get(session);
      if (count === undefined || count === HANDSHAKING) return;
      if (count > 1) return void open.set(session!, count - 1);
      open.set(session!, 0);
      sessions.set(session!, performance.now() + limits.idleMs);
    };
    subscribe("http2.server.stream.created", this.#onCreated);
    subscribe("http2.server.stream.close", this.#onClosed);
  }

  /** Every session of the server that has not closed yet. */
  sessions(): IterableIterator<ServerHttp2Session> {
    return this.#open.keys();
  }

  /** Ends what has passed its deadline: silent and idle sessions, requests that did not arrive in time. */
  sweep(now = performance.now()): void {
    for (const [session, deadline] of this.#sessions) {
      if (deadline > now) continue;
      this.#sessions.delete(session);
      if (this.#open.get(session) === HANDSHAKING) {
        this.onExpired("h2_settings");
        session.destroy();
      } else {
        this.onExpired("h2_idle");
        session.close();
      }
    }
    for (const [stream, deadline] of this.#requests) {
      // The request arrived (or the stream is gone): nothing left to bound.
      if (stream.destroyed || stream.state.remoteClose) {
        this.#requests.delete(stream);
      } else if (deadline <= now) {
        this.#requests.delete(stream);
        this.onExpired("h2_request");
        stream.close(constants.NGHTTP2_CANCEL);
      }
    }
  }

  /** Stops counting (the server is stopping). */
  stop(): void {
    unsubscribe("http2.server.stream.created", this.#onCreated);
    unsubscribe("http2.server.stream.close", this.#onClosed);
  }
}
