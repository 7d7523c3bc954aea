/**
 * What a subscription promises and needs: the app's options, the handle it gets back, the states
 * it reports, and the channel it reads from. The loop that keeps the promise is subscription.ts.
 */
import type { CallOptions } from "@connectrpc/connect";
import type { BackoffOptions } from "./backoff.js";
import type { CloseReason, ConnectError, DisconnectReason } from "./errors.js";
import type { PageFn } from "./gap-fill.js";
import type { Message, Presence, ReadState, Room, SubscribeDirectMessagesResponse, SubscribeRoomResponse, Typing, WatchRoomsResponse } from "./gen.js";

/**
 * One frame of SubscribeRoom or SubscribeDirectMessages — message, ready, heartbeat, gap, typing on
 * both; `read` on direct-message streams, `presence` on room streams — or of WatchRooms (ready,
 * heartbeat, created).
 */
export type StreamFrame = Pick<SubscribeDirectMessagesResponse, "frame"> | Pick<SubscribeRoomResponse, "frame"> | Pick<WatchRoomsResponse, "frame">;

/** Where a subscription reads from: a stream that resumes after an id, and the history to page gaps from. */
export interface ChannelSource {
  /** Opens the stream of everything after `since` ("" = from now). */
  open(since: string, options: CallOptions): AsyncIterable<StreamFrame>;
  /** One page of the channel's history, newest first. */
  list(page: Parameters<PageFn>[0], options: CallOptions): Promise<Message[]>;
}

/** What the subscription is doing, as the app should see it. */
export type SubscriptionState =
  | { readonly status: "connecting" }
  | { readonly status: "live"; readonly position: string }
  | {
      readonly status: "reconnecting";
      readonly reason: DisconnectReason;
      readonly error?: ConnectError;
      /** The wait before the next attempt (Retry-After when the server sent one, else the backoff). */
      readonly retryInMs: number;
      /** Failed attempts since the stream was last live. */
      readonly attempt: number;
    }
  | { readonly status: "closed"; readonly reason: CloseReason; readonly error?: unknown };

/** The app's side of a subscription. */
export interface SubscribeOptions {
  /**
   * Deliver everything after this message id (a saved `position`); "0" = the whole history;
   * omitted or "" = from now on.
   */
  since?: string;
  /**
   * Called once for every message, in the server's order. A returned promise is awaited before the
   * next message (and before `position` moves past this one), so a slow handler slows the stream
   * instead of losing messages. If it throws, the subscription closes with `handler-error`.
   */
  onMessage(message: Message): void | Promise<void>;
  /** Called on every change of state. */
  onState?(state: SubscriptionState): void;
  /**
   * `fill` (default): a gap is paged from the history and delivered in order before the stream
   * goes on. `surface`: `onGap` is called and the messages of the gap are not delivered.
   */
  gaps?: "fill" | "surface";
  /** Called for every gap frame (with `fill`, before it is filled). */
  onGap?(gap: { after: string; before: string }): void;
  /** Stops the subscription, as `close()` does. */
  signal?: AbortSignal;
  /** Messages per List call when filling a gap (default 1000, the most the server allows). */
  gapPageSize?: number;
  /**
   * Called when someone else starts, renews or stops typing: in the room (room subscriptions), or
   * to me in our conversation (`subscribeDirectMessages`; `typing.channel` names the typist).
   * Show "user is typing…" until `typing.until` unless `typing.stopped`, a newer call for the same
   * user replaces it, or that user's message arrives. Never my own typing. Live only: not
   * replayed on resume, never moves `position`. Awaited and ordered like `onMessage`; if it
   * throws, the subscription closes with `handler-error`.
   */
  onTyping?(typing: Typing): void | Promise<void>;
}

/** The options of `subscribeDirectMessages`: those of every subscription, and my read states. */
export interface DirectSubscribeOptions extends SubscribeOptions {
  /**
   * Called when one of my sessions (this one included) marked a channel read up to a newer
   * message (or the same one again): my read state of that room or conversation as the mark
   * stored it — clear or update its badge. Live only: read states are not replayed on resume
   * (after a reconnect read them from `listRooms` or `rpc.messages.listDirectMessages`,
   * `readStates`), and they never move `position`. Awaited and ordered like `onMessage`; if it
   * throws, the subscription closes with `handler-error`.
   */
  onRead?(state: ReadState): void | Promise<void>;
}

/** The options of `subscribeRoom`: those of every subscription, and who has the room open. */
export interface RoomSubscribeOptions extends SubscribeOptions {
  /**
   * Given, the stream asks for presence: called first right after each (re)connect with a snapshot
   * (`presence.snapshot`: `joined` is the whole list — empty past 100 users, then `truncated`; ask
   * `getRoomPresence` — and replaces what you held), then once per server batch (about a second)
   * in which users joined or left; `count` is always exact. Live only, never moves `position`.
   * Awaited and ordered like `onMessage`; if it throws, the subscription closes with `handler-error`.
   */
  onPresence?(presence: Presence): void | Promise<void>;
}

/** The options of `watchRooms`: the room list, live, across reconnects. */
export interface WatchRoomsOptions {
  /** Deliver the rooms created after this room id (a saved `position`); "0" = every room; omitted or "" = from now on. */
  since?: string;
  /**
   * Called for every room created (and, after a reconnect, for the rooms the server replays from
   * a grace window before `position`: keep rooms by `roomId`, an upsert — rooms never change).
   * Awaited in order; if it throws, the subscription closes with `handler-error`.
   */
  onRoom(room: Room): void | Promise<void>;
  onState?(state: SubscriptionState): void;
  signal?: AbortSignal;
}

/** What the resuming loop is given: every message subscription's options, and the room list's `onRoom`. */
export type SourceOptions = DirectSubscribeOptions & RoomSubscribeOptions & Pick<Partial<WatchRoomsOptions>, "onRoom">;

/** A running subscription. */
export interface Subscription {
  /**
   * The id of the last message delivered (or, before any, the position the stream started from):
   * pass it as `since` to resume exactly after it — after a page reload or a process restart.
   * "" until the first stream is open when started without `since`.
   */
  readonly position: string;
  readonly state: SubscriptionState;
  /** Stops for good: no more messages, no reconnects, no resume; the state becomes `closed` (`closed`). */
  close(): void;
  /**
   * Starts again from `position` after the subscription closed (e.g. `unauthenticated`, once the
   * app has a new token), or reconnects at once while it waits to reconnect.
   */
  resume(): void;
}

/** What a subscription gets from its client. */
export interface SubscriptionDeps {
  /** The server's heartbeat interval, when it does not announce one. */
  readonly heartbeatIntervalMs: number;
  readonly backoff: BackoffOptions;
  /** Deadline of each List call made to fill a gap. */
  readonly callTimeoutMs: number;
  /** A stream of this client turned live: the server is reachable again. */
  onLive(): void;
  /** A stream went silent for two heartbeats: drop any connection it shares with other calls. */
  onDeadConnection?(): void;
}
