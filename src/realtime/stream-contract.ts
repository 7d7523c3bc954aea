/**
 * What a subscription is asked for and what it yields — the frames every edge encodes — on
 * their own, so the modules of the subscription (live-stream.ts, starting-point.ts,
 * frame-receiver.ts) and the edges depend on them without depending on each other.
 */
import type { Channel, ChatMessage, MessagePage, PresenceMember, ReadState, RoomRecord, Typing } from "../domain/model.js";

/**
 * The user's new read state of one channel, on their direct-message streams (hub.ts addresses it
 * to the user's inbox channel). Ephemeral: it is not a message, moves no position, is never
 * replayed, and one object is shared by every stream it reaches.
 */
export interface ReadFrame {
  readonly kind: "read";
  readonly state: ReadState;
}

/**
 * Someone typing in the stream's channel (hub.ts addresses it to a room's channel or to the
 * peer's inbox). Ephemeral like a read frame: not a message, moves no position, never replayed;
 * one object is shared by every stream it reaches (so its encodings are made once), and a
 * stream of the typist themself skips it (live-stream.ts, by SubscriptionRequest.viewerId).
 */
export interface TypingFrame {
  readonly kind: "typing";
  readonly typing: Typing;
}

/**
 * A room of the room list (room-watch.ts): created live, or replayed on resume. Only room-list
 * streams carry it; its room id is the stream's resume cursor as a message id is a channel's.
 */
export interface RoomFrame {
  readonly kind: "room";
  readonly room: RoomRecord;
}

/**
 * Who has a room open (presence.ts), for the room's streams that asked (`presence`): a snapshot
 * first, then one frame per batch in which someone joined or left. Ephemeral like a typing frame;
 * one object is shared by every stream it reaches.
 */
export interface PresenceFrame {
  readonly kind: "presence";
  readonly roomId: string;
  /** Distinct users present, on all nodes. */
  readonly count: number;
  readonly joined: readonly PresenceMember[];
  readonly left: readonly PresenceMember[];
  /** The stream's first presence frame: `joined` is the whole list (empty past the frame limit). */
  readonly snapshot: boolean;
  /** More joined or left than listed. */
  readonly truncated: boolean;
}

/** The frames that are not messages but travel live among them: read, typing and presence frames. */
export type SignalFrame = ReadFrame | TypingFrame | PresenceFrame;

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
  | SignalFrame
  | RoomFrame;

/**
 * What the hub hands a stream live, in the order it dispatched them: a message (as the shared
 * stored object, wrapped in a frame only when read), or a read or typing frame.
 */
export type LiveItem = ChatMessage | SignalFrame;

/** Whether a live item is a read or typing frame (a ChatMessage has no `kind`). */
export function isSignalFrame(item: LiveItem): item is SignalFrame {
  return (item as Partial<SignalFrame>).kind !== undefined;
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
  /**
   * The subscribing user, when known: their own typing frames are not sent to them, and on a room
   * stream they count as present in the room while it is open (presence.ts).
   */
  readonly viewer?: PresenceMember | undefined;
  /** A room stream also gets presence frames (a snapshot after Ready, then the changes). */
  readonly presence?: boolean;
}
