/**
 * The node-local hub: which live subscribers want which channel, and which open streams belong
 * to which token. It hands each message to every subscriber of its channel once, in the order
 * the bus delivers them (per-channel order), and never blocks on a slow subscriber. A user's new
 * read state goes the same way to the subscribers of the user's inbox (their direct-message
 * streams), as one read frame shared by all of them; someone typing to the subscribers of the
 * channel typed in (a room, or the peer's inbox), as one typing frame shared by all of them; a
 * change of who has a room open (presence.ts) to the room's streams that asked, as one presence
 * frame shared by all of them; a room created to every room-list stream (room-watch.ts), which
 * are kept in one set of their own, not under a channel.
 *
 * Registrations are the subscribers and sessions themselves (no per-registration closure):
 * the hub is on the path of every idle stream, so what it keeps per stream is one set entry.
 */
import { HandOverBatch } from "./hand-over-batch.js";
import { HeartbeatTickers } from "./heartbeat-ticker.js";
import type { BusEvent } from "../bus/bus.js";
import { type Channel, channelKey } from "../domain/model.js";
import type { RecentMessages } from "./recent-messages.js";
import type { RoomRecord } from "../domain/model.js";
import type { Presence } from "./presence.js";
import type { LiveItem, PresenceFrame, ReadFrame, SubscriptionRequest, TypingFrame } from "./stream-contract.js";

/** Something that receives a channel's messages (and read and typing frames); deliver() must not throw or block. */
export interface Subscriber {
  deliver(item: LiveItem): void;
}

/** A room-list stream (room-watch.ts): gets every room created; roomCreated() must not throw or block. */
export interface RoomWatcher {
  roomCreated(room: RoomRecord): void;
}

/** A stream opened with a token; revoke() ends it (must not throw). */
export interface Revocable {
  revoke(): void;
}

export class Hub {
  /**
   * With a log-first bus, what this node handed on lately (recent-messages.ts): a stream that
   * starts from the store merges it in. Undefined with a store-first bus (stored before published).
   */
  constructor(
    readonly recent?: RecentMessages,
    /** Who has which room open, on every node (presence.ts); without it no stream counts or watches presence. */
    readonly presence?: Presence,
  ) {
    presence?.listen((frame) => this.#deliverPresence(frame));
  }

  /** The heartbeat timers its streams share, one per period. */
  readonly heartbeats = new HeartbeatTickers();
  /** The hand-overs of a burst of dispatches, run in one microtask. */
  readonly handOvers = new HandOverBatch();

  readonly #byChannel = new Map<string, Set<Subscriber>>();
  /** The room streams that asked for presence frames, by room id. */
  readonly #presenceWatchers = new Map<string, Set<Subscriber>>();
  /** Most tokens have one stream: it is kept as is, a set only from the second one. */
  readonly #byToken = new Map<string, Revocable | Set<Revocable>>();
  /** Room-list streams: one "all rooms" set (they are few next to room subscribers). */
  readonly #roomWatchers = new Set<RoomWatcher>();
  #deliveries = 0;

  /** Hands every room created from now on to `watcher` until unwatchRooms(). */
  watchRooms(watcher: RoomWatcher): void {
    this.#roomWatchers.add(watcher);
  }

  /** Stops handing rooms to `watcher`; a no-op when it is not there. */
  unwatchRooms(watcher: RoomWatcher): void {
    this.#roomWatchers.delete(watcher);
  }

  /** Open room-list streams on this process (for tests and metrics). */
  get roomWatcherCount(): number {
    return this.#roomWatchers.size;
  }

  /** Adds a subscriber to a channel until unsubscribe() with the same pair. */
  subscribe(channel: Channel, subscriber: Subscriber): void {
    const key = channelKey(channel);
    let set = this.#byChannel.get(key);
    if (!set) this.#byChannel.set(key, (set = new Set()));
    set.add(subscriber);
  }

  /** Removes a subscriber from a channel; a no-op when it is not there. */
  unsubscribe(channel: Channel, subscriber: Subscriber): void {
    const key = channelKey(channel);
    const set = this.#byChannel.get(key);
    if (set?.delete(subscriber) && set.size === 0) this.#byChannel.delete(key);
  }

  /**
   * A room stream registered: its viewer counts as present in the room while it is open, and a
   * stream that asked for presence frames is registered for them. Returns the stream's first
   * presence frame (the snapshot) when it asked. A no-op for other streams.
   */
  enterRoom(request: SubscriptionRequest, subscriber: Subscriber): PresenceFrame | undefined {
    const presence = this.presence;
    if (!presence || request.channel.kind !== "room") return undefined;
    const roomId = request.channel.id;
    if (request.viewer) presence.enter(roomId, request.viewer);
    if (!request.presence) return undefined;
    let set = this.#presenceWatchers.get(roomId);
    if (!set) this.#presenceWatchers.set(roomId, (set = new Set()));
    set.add(subscriber);
    return presence.snapshot(roomId);
  }

  /** Undoes enterRoom() for a stream that ends. */
  leaveRoom(request: SubscriptionRequest, subscriber: Subscriber): void {
    const presence = this.presence;
    if (!presence || request.channel.kind !== "room") return;
    const roomId = request.channel.id;
    if (request.viewer) presence.leave(roomId, request.viewer.userId);
    if (!request.presence) return;
    const set = this.#presenceWatchers.get(roomId);
    if (set?.delete(subscriber) && set.size === 0) this.#presenceWatchers.delete(roomId);
  }

  /** Registers a stream opened with a token until untrackSession(), so revoking the token ends it. */
  trackSession(tokenId: string, session: Revocable): void {
    const held = this.#byToken.get(tokenId);
    if (held === undefined) this.#byToken.set(tokenId, session);
    else if (held instanceof Set) held.add(session);
    else if (held !== session) this.#byToken.set(tokenId, new Set([held, session]));
  }

  /** Forgets a stream registered with trackSession(); a no-op when it is not there. */
  untrackSession(tokenId: string, session: Revocable): void {
    const held = this.#byToken.get(tokenId);
    if (held === session) this.#byToken.delete(tokenId);
    else if (held instanceof Set && held.delete(session) && held.size === 0) this.#byToken.delete(tokenId);
  }

  /** Applies one bus event: fans a message, a read state or a typing notice out, or ends a revoked token's streams. */
  dispatch(event: BusEvent): void {
    switch (event.type) {
      case "message": {
        this.recent?.add(event.message);
        const set = this.#byChannel.get(channelKey(event.message.channel));
        if (!set) return;
        for (const subscriber of set) subscriber.deliver(event.message);
        this.#deliveries += set.size;
        return;
      }
      case "read": {
        // The user's own inbox channel: their direct-message streams, and nobody else's.
        const set = this.#byChannel.get(channelKey({ kind: "user", id: event.userId }));
        if (!set) return;
        const frame: ReadFrame = { kind: "read", state: event.state };
        for (const subscriber of set) subscriber.deliver(frame);
        return;
      }
      case "typing": {
        // A room's streams (the typist's own skip it, live-stream.ts), or the peer's inbox.
        const set = this.#byChannel.get(channelKey(event.typing.channel));
        if (!set) return;
        const frame: TypingFrame = { kind: "typing", typing: event.typing };
        for (const subscriber of set) subscriber.deliver(frame);
        return;
      }
      case "room_created":
        for (const watcher of this.#roomWatchers) watcher.roomCreated(event.room);
        return;
      case "presence":
        return this.presence?.apply(event.report);
      case "token_revoked":
        return this.revokeSessions(event.tokenId);
    }
  }

  /** A change of who is present in a room (presence.ts): one shared frame to the room's watchers. */
  #deliverPresence(frame: PresenceFrame): void {
    const set = this.#presenceWatchers.get(frame.roomId);
    if (!set) return;
    for (const subscriber of set) subscriber.deliver(frame);
  }

  /** Ends every stream registered with `tokenId` (the token was revoked); a no-op when there is none. */
  revokeSessions(tokenId: string): void {
    const held = this.#byToken.get(tokenId);
    if (held instanceof Set) for (const session of [...held]) session.revoke();
    else held?.revoke();
  }

  /** How many message deliveries to subscribers the hub has made since start (for metrics; read and typing frames are not counted). */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Live subscribers of one channel (for tests and metrics). */
  subscriberCount(channel: Channel): number {
    return this.#byChannel.get(channelKey(channel))?.size ?? 0;
  }
}
