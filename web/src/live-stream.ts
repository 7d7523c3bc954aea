import { Code, ConnectError } from "@connectrpc/connect";
import type { Gap, Heartbeat, Message, Ready } from "../../gen/chat/v1/types_pb.js";
import { maxId } from "./ids.js";

/** The state of one live stream, as the reader should see it. */
export type LinkState = "connecting" | "connected" | "reconnecting" | "offline";

/** One frame of SubscribeRoom or SubscribeDirectMessages: both share this oneof. */
export interface StreamFrame {
  frame:
    | { case: "message"; value: Message }
    | { case: "ready"; value: Ready }
    | { case: "heartbeat"; value: Heartbeat }
    | { case: "gap"; value: Gap }
    | { case: undefined; value?: undefined };
}

/** What a resumable stream needs from its owner. */
export interface LiveStreamOptions {
  /** Opens one server stream that delivers everything after `since` ("" = from now). */
  open(since: string, signal: AbortSignal): AsyncIterable<StreamFrame>;
  /** Resume point to start from: the newest message id already shown, or "". */
  since?: string;
  /** Called for every message frame, in the order the server sends them (it may repeat one across reconnects). */
  onMessage(message: Message): void;
  /** Called when the server skipped a stretch of messages that must be paged with a List RPC. */
  onGap?(gap: Gap): void;
  onState?(state: LinkState): void;
  /** Called once when the server rejects the token; the stream then stops for good. */
  onAuthLost?(): void;
}

/** A running stream; `stop()` ends it and every retry. */
export interface LiveStream {
  stop(): void;
  /** The newest message id (or Ready position) received so far: the next `since`. */
  readonly cursor: string;
}

/** Longest wait between reconnect attempts, before jitter. */
export const maxBackoffMs = 5_000;
/** With no frame at all for this long, the stream is presumed dead and reopened. */
const idleTimeoutMs = 35_000;
/** After failing this long without a Ready frame, the reader is told "offline". */
const offlineAfterMs = 30_000;

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter in [d/2, d). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const d = Math.min(maxBackoffMs, 250 * 2 ** attempt);
  return d / 2 + random() * (d / 2);
}

/**
 * Keeps a server stream open for as long as it is wanted: on any drop it
 * reconnects with capped, jittered exponential backoff and resumes with
 * `since` = the last message id seen, so the server replays what was missed.
 * Message frames are passed on as they come; de-duplication is the owner's job
 * (the server promises no duplicate per stream, but a retried open may overlap).
 */
export function startLiveStream(options: LiveStreamOptions): LiveStream {
  const stopper = new AbortController();
  let cursor = options.since ?? "";
  let state: LinkState | undefined;
  const setState = (next: LinkState): void => {
    if (next === state) return;
    state = next;
    options.onState?.(next);
  };

  let wake: (() => void) | undefined;
  let live = false; // a stream is open and has sent Ready
  const onOnline = (): void => (live ? setState("connected") : wake?.());
  const onOffline = (): void => setState("offline");
  globalThis.addEventListener?.("online", onOnline);
  globalThis.addEventListener?.("offline", onOffline);

  async function run(): Promise<void> {
    let attempt = 0;
    let failingSince: number | undefined;
    setState("connecting");
    while (!stopper.signal.aborted) {
      const attemptCtl = new AbortController();
      const abortAttempt = (): void => attemptCtl.abort();
      stopper.signal.addEventListener("abort", abortAttempt);
      let idle = setTimeout(abortAttempt, idleTimeoutMs);
      try {
        for await (const { frame } of options.open(cursor, attemptCtl.signal)) {
          clearTimeout(idle);
          idle = setTimeout(abortAttempt, idleTimeoutMs);
          switch (frame.case) {
            case "ready":
              cursor = maxId(cursor, frame.value.position);
              attempt = 0;
              failingSince = undefined;
              live = true;
              setState("connected");
              break;
            case "message":
              cursor = maxId(cursor, frame.value.messageId);
              options.onMessage(frame.value);
              break;
            case "gap":
              options.onGap?.(frame.value);
              break;
          }
        }
      } catch (err) {
        if (stopper.signal.aborted) break;
        if (ConnectError.from(err).code === Code.Unauthenticated) {
          setState("offline");
          options.onAuthLost?.();
          break;
        }
      } finally {
        live = false;
        clearTimeout(idle);
        stopper.signal.removeEventListener("abort", abortAttempt);
      }
      if (stopper.signal.aborted) break;
      // The stream ended (server restart, network drop, idle): wait, then resume from `cursor`.
      failingSince ??= Date.now();
      const offline = globalThis.navigator?.onLine === false || Date.now() - failingSince > offlineAfterMs;
      setState(offline ? "offline" : "reconnecting");
      await sleep(backoffDelay(attempt++), stopper.signal, (w) => (wake = w));
    }
    globalThis.removeEventListener?.("online", onOnline);
    globalThis.removeEventListener?.("offline", onOffline);
  }
  void run();

  return {
    stop: () => stopper.abort(),
    get cursor() {
      return cursor;
    },
  };
}

/** Resolves after `ms`, on abort, or when the registered waker is called. */
function sleep(ms: number, signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
    register(done);
  });
}
