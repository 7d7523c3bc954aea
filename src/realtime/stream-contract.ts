/**
 * What a subscription is asked for and what it yields — the frames every edge encodes — on
 * their own, so the modules of the subscription (live-stream.ts, starting-point.ts,
 * frame-receiver.ts) and the edges depend on them without depending on each other.
 */
import type { Channel, ChatMessage, MessagePage, ReadState } from "../domain/model.js";

/**
 * The user's new read state of one channel, on their direct-message streams (hub.ts addresses it
 * to the user's inbox channel). Ephemeral: it is not a message, moves no position, is never
 * replayed, and one object is shared by every stream it reaches.
 */
export interface ReadFrame {
  readonly kind: "read";
  readonly state: ReadState;
}

export type Frame =
  | {
      readonly kind: "ready";
      readonly position: string;
      /** The stream sends a frame at least this often (a heartbeat when idle): clients tell a dead connection by it. */
      readonly heartbeatMs: number;
    }
  | { readonly kind: "message"; readonly message: ChatMessage }
  | { readonly kind: "heartbeat"; readonly atMs: number }
  | { readonly kind: "gap"; readonly after: string; readonly before: string }
  | ReadFrame;

/**
 * What the hub hands a stream live, in the order it dispatched them: a message (as the shared
 * stored object, wrapped in a frame only when read), or a read frame.
 */
export type LiveItem = ChatMessage | ReadFrame;

/** Whether a live item is a read frame (a ChatMessage has no `kind`). */
export function isReadFrame(item: LiveItem): item is ReadFrame {
  return (item as Partial<ReadFrame>).kind === "read";
}

export interface SubscriptionLimits {
  /** Most stored messages replayed on one stream before a Gap is sent instead. */
  readonly replayLimit: number;
  /** Most messages waiting for a slow client before its stream is ended. */
  readonly queueLimit: number;
  /** Idle time after which a heartbeat frame is sent. */
  readonly heartbeatMs: number;
  /** Called when a stream is ended because its client fell behind (metrics). */
  readonly onOverflow?: () => void;
}

export interface SubscriptionRequest {
  readonly channel: Channel;
  /** Resume after this id; undefined or "" for "from now on". */
  readonly since: string | undefined;
  /** Reads the channel's history, newest first (the store, bound to the channel). */
  readonly history: (page: MessagePage) => Promise<ChatMessage[]>;
  /** Ends the stream; a DomainError as the reason is thrown to the client. */
  readonly signal: AbortSignal;
}
