/**
 * The bus port: how a message (and a token revocation, a user's new read state, someone typing,
 * who has a room open)
 * reaches every node that has live subscribers for it. Adapters: bus/memory (one process), cluster/cluster-bus.ts (one node's workers),
 * bus/kafka (many nodes).
 *
 * Guarantees every adapter gives (checked by test/contract/bus-contract.ts):
 * - per channel order: events of one room / one inbox are delivered in the order published;
 * - at most once per node from the bus's side; a node that misses events (restart, rebalance)
 *   relies on clients resuming from the store with `since`, so nothing is lost to a user.
 *
 * A bus that is also the message log (`log`, bus/kafka) orders messages itself: a message is
 * appended to the log first, named by its place there, and stored from the log (DESIGN.md,
 * "One order per channel"). The others carry messages the store has already named.
 */
import type { ChatMessage, PresenceReport, ReadState, RoomRecord, Typing } from "../domain/model.js";

/** A message before the log names it: its id and time come from its place in the log. */
export type MessageDraft = Omit<ChatMessage, "id" | "createdAtMs">;

/** What appending to the log gave: the message as named there, or the one its key already named. */
export interface LogAppend {
  readonly message: ChatMessage;
  /** False when the log already held a message with the same sender, key and channel. */
  readonly created: boolean;
}

export interface MessageLog {
  /**
   * Appends a message to its channel's log and resolves once this node has read it back (with
   * its id, which orders it in its channel); UnavailableError when that does not happen in time
   * — the message may then still be appended and delivered (a retry with its key finds it).
   */
  append(draft: MessageDraft): Promise<LogAppend>;
}

export type BusEvent =
  | { readonly type: "message"; readonly message: ChatMessage }
  | { readonly type: "token_revoked"; readonly tokenId: string; readonly expiresAtMs: number }
  /**
   * A mark of `userId`'s moved their read marker: handed to that user's direct-message streams as
   * a `read` frame. Ephemeral: a node that misses it loses only the frame (clients read states
   * from List), so it is never part of the message log.
   */
  | { readonly type: "read"; readonly userId: string; readonly state: ReadState }
  /**
   * Someone is typing in `typing.channel` (services/typing.ts): handed to that channel's streams
   * as a `typing` frame. Ephemeral like `read`: never part of the message log.
   */
  | { readonly type: "typing"; readonly typing: Typing }
  /**
   * One process's batch of joins and leaves of room streams, or its whole state, or its heartbeat
   * (realtime/presence.ts). Ephemeral like `read`: never part of the message log; per origin in
   * the order published (receivers that see a jump ask for a reset).
   */
  | { readonly type: "presence"; readonly report: PresenceReport }
  /**
   * A room was created and stored (services/rooms.ts): handed to every room-list watcher
   * (realtime/room-watch.ts) as a `room` frame. Ephemeral like `read`: a node that misses it
   * costs its watchers nothing a resume from the store with `since` does not give back.
   */
  | { readonly type: "room_created"; readonly room: RoomRecord };

export type BusListener = (event: BusEvent) => void;

export interface Bus {
  /** Present when the bus is the message log (see above). */
  readonly log?: MessageLog;
  /** Sends an event to every node, this one included. Resolves once the bus has accepted it. */
  publish(event: BusEvent): Promise<void>;
  /** Starts delivering events to the listener; call once, before publishing. */
  start(listener: BusListener): Promise<void>;
  /** Stops delivery and releases connections. */
  close(): Promise<void>;
}
