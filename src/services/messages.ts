/**
 * Use cases of messages: post to a room, send to a user, list history, subscribe in real time.
 *
 * Where a message gets its id and its place in its channel's order — one decision, two shapes:
 * - store-first (SQLite, one node): the node names it (ids.next()), stores it, then publishes
 *   it; store order = id order = publish order.
 * - log-first (a bus that is the message log: Kafka): the log names it by its place in the
 *   channel's partition, every node delivers it in that order, and the store is written from the
 *   log (this node writes it too, so "post, then list" sees it). No node's clock orders anything.
 * Either way anything a subscriber receives live can be read back from the store, and a stream
 * that missed it recovers it with `since`.
 */
import { AlreadyExistsError, NotFoundError } from "../domain/errors.js";
import type { SnowflakeGenerator } from "../domain/ids.js";
import type { Channel, ChatMessage, MessagePage } from "../domain/model.js";
import { messageText, uniquenessKey } from "../domain/names.js";
import type { Bus, MessageLog } from "../bus/bus.js";
import type { AppendResult, IdempotencyKey, Store } from "../store/store.js";
import type { TokenClaims } from "../auth/tokens.js";
import type { Hub } from "../realtime/hub.js";
import { subscribe } from "../realtime/subscription.js";
import type { Frame, SubscriptionLimits } from "../realtime/stream-contract.js";
import { ReadMarkers } from "./read-markers.js";
import type { Rooms } from "./rooms.js";
import { TypingIndicators } from "./typing.js";

/** How long the same client_message_id from the same sender names the same message. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const DEFAULT_PAGE = 50;

export interface MessagesDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly hub: Hub;
  readonly ids: SnowflakeGenerator;
  readonly rooms: Rooms;
  readonly limits: SubscriptionLimits;
  /** Called once per newly stored message (metrics). */
  readonly onStored?: (message: ChatMessage) => void;
  /** Called when recording a message the log already holds failed (the store writer repeats it). */
  readonly onRecordFailed?: (error: unknown) => void;
  /** Called when a mark's `read` event could not be published (read-markers.ts). */
  readonly onReadUnpublished?: (error: unknown) => void;
  /** Called when a `typing` event could not be published (typing.ts). */
  readonly onTypingUnpublished?: (error: unknown) => void;
}

/** Which user a direct message goes to. */
export type Recipient = { readonly userId: string } | { readonly username: string };

export class Messages {
  /**
   * Read markers and unread counts (services/read-markers.ts), over this service's store, rooms
   * and bus. Reached through Messages so the edges' service set stays as it is; it is its own
   * use case, and may become a service of its own in the composition root.
   */
  readonly reads: ReadMarkers;
  /** Typing indicators (services/typing.ts), over this service's store, rooms and bus; reached through Messages like `reads`. */
  readonly typing: TypingIndicators;

  constructor(private readonly deps: MessagesDeps) {
    this.reads = new ReadMarkers({ store: deps.store, rooms: deps.rooms, bus: deps.bus, onReadUnpublished: deps.onReadUnpublished });
    this.typing = new TypingIndicators({ store: deps.store, rooms: deps.rooms, bus: deps.bus, onUnpublished: deps.onTypingUnpublished });
  }

  /**
   * Posts to a room (no membership needed); NotFoundError when the room does not exist. A
   * `clientMessageId` the sender already used within the idempotency window answers with the
   * message it names when that message has this room and this text, and throws
   * AlreadyExistsError (storing nothing) when it was used for another target or text.
   */
  async post(sender: TokenClaims, roomId: string, text: string, clientMessageId: string): Promise<ChatMessage> {
    await this.deps.rooms.get(roomId);
    return this.#store(sender, { kind: "room", id: roomId }, text, clientMessageId);
  }

  /** Sends a direct message; NotFoundError when the recipient does not exist. Keys as for post(). */
  async send(sender: TokenClaims, recipient: Recipient, text: string, clientMessageId: string): Promise<ChatMessage> {
    const user =
      "userId" in recipient
        ? await this.deps.store.findUserById(recipient.userId)
        : await this.deps.store.findUserByNameKey(uniquenessKey(recipient.username));
    if (!user) throw new NotFoundError("no such user");
    return this.#store(sender, { kind: "user", id: user.id }, text, clientMessageId);
  }

  /** A room's messages, newest first; NotFoundError when the room does not exist. */
  async listRoom(roomId: string, page: Partial<MessagePage>): Promise<ChatMessage[]> {
    await this.deps.rooms.get(roomId);
    return this.deps.store.listRoomMessages(roomId, withDefaults(page));
  }

  /** Direct messages sent to the caller, or (withUserId) the caller's conversation with one user. */
  async listDirect(caller: TokenClaims, page: Partial<MessagePage>, withUserId?: string): Promise<ChatMessage[]> {
    const full = withDefaults(page);
    if (!withUserId) return this.deps.store.listInbox(caller.userId, full);
    return this.deps.store.listConversation(caller.userId, withUserId, full);
  }

  /**
   * Frames of a room subscription (see realtime/subscription.ts); NotFoundError before any frame.
   * The viewer gets no typing frames of their own and counts as present in the room while the
   * stream is open; with `presence`, the stream also carries presence frames.
   */
  async subscribeRoom(
    viewer: Pick<TokenClaims, "userId" | "username">,
    roomId: string,
    options: { readonly since: string | undefined; readonly presence: boolean },
    signal: AbortSignal,
  ): Promise<AsyncGenerator<Frame>> {
    await this.deps.rooms.get(roomId);
    return subscribe(this.deps.hub, this.deps.limits, {
      channel: { kind: "room", id: roomId },
      since: options.since || undefined,
      history: (page) => this.deps.store.listRoomMessages(roomId, page),
      signal,
      viewer: { userId: viewer.userId, username: viewer.username },
      presence: options.presence,
    });
  }

  /** Frames of the caller's direct-message subscription. Only ever the caller's own inbox. */
  subscribeDirect(caller: TokenClaims, since: string | undefined, signal: AbortSignal): AsyncGenerator<Frame> {
    return subscribe(this.deps.hub, this.deps.limits, {
      channel: { kind: "user", id: caller.userId },
      since: since || undefined,
      history: (page) => this.deps.store.listInbox(caller.userId, page),
      signal,
      viewer: { userId: caller.userId, username: caller.username },
    });
  }

  async #store(sender: TokenClaims, channel: Channel, rawText: string, clientMessageId: string): Promise<ChatMessage> {
    const text = messageText(rawText);
    const result = this.deps.bus.log
      ? await this.#appendToLog(this.deps.bus.log, sender, channel, text, clientMessageId)
      : await this.#storeThenPublish(sender, channel, text, clientMessageId);
    if (!result.created && !sameRequest(result.message, channel, text)) {
      throw new AlreadyExistsError(
        `client_message_id "${clientMessageId}" was already used for a different message (another room, recipient or text): ` +
          "use a new client_message_id for a new message",
      );
    }
    return result.message;
  }

  /**
   * Log-first: a key the store already knows answers at once; otherwise the log names the
   * message (or recognises a retry whose original the store has not recorded yet), and this node
   * records it before answering. Should that write fail, the message is in the log all the same
   * (the store writer records it), so the answer is still success.
   */
  async #appendToLog(log: MessageLog, sender: TokenClaims, channel: Channel, text: string, clientMessageId: string): Promise<AppendResult> {
    if (clientMessageId) {
      const earlier = await this.deps.store.findMessageByKey(sender.userId, clientMessageId);
      if (earlier) return { message: earlier, created: false };
    }
    const appended = await log.append({ channel, senderId: sender.userId, senderName: sender.username, text, clientMessageId });
    const { message } = appended;
    // A retry's original too: its own node may have died before writing it (idempotent either way).
    await this.deps.store.recordMessage(message, idempotencyKeyOf(message)).catch((error: unknown) => this.deps.onRecordFailed?.(error));
    if (appended.created) this.deps.onStored?.(message);
    return appended;
  }

  /** Store-first: id and append in one synchronous step, so ids reach the store (and the bus) in id order. */
  async #storeThenPublish(sender: TokenClaims, channel: Channel, text: string, clientMessageId: string): Promise<AppendResult> {
    const now = Date.now();
    const message: ChatMessage = {
      id: this.deps.ids.next(),
      channel,
      senderId: sender.userId,
      senderName: sender.username,
      text,
      createdAtMs: now,
      clientMessageId,
    };
    const idempotency = clientMessageId
      ? { senderId: sender.userId, key: clientMessageId, expiresAtMs: now + IDEMPOTENCY_WINDOW_MS }
      : undefined;
    const result = await this.deps.store.appendMessage(message, idempotency);
    if (result.created) {
      this.deps.onStored?.(result.message);
      await this.deps.bus.publish({ type: "message", message: result.message });
    }
    return result;
  }
}

/**
 * Whether the message a key already names is the one now requested: same channel, same text
 * after the normalisation every stored text has had (messageText: NFC). The sender is the same
 * by construction (keys are per sender); the sender's display name may have changed and does
 * not make it another message.
 */
function sameRequest(stored: ChatMessage, channel: Channel, text: string): boolean {
  return stored.channel.kind === channel.kind && stored.channel.id === channel.id && stored.text === text;
}

/** The idempotency key a message named by the log records: its sender's key, for the window from its time. */
export function idempotencyKeyOf(message: ChatMessage): IdempotencyKey | undefined {
  if (!message.clientMessageId) return undefined;
  return { senderId: message.senderId, key: message.clientMessageId, expiresAtMs: message.createdAtMs + IDEMPOTENCY_WINDOW_MS };
}

function withDefaults(page: Partial<MessagePage>): MessagePage {
  return {
    limit: page.limit && page.limit > 0 ? page.limit : DEFAULT_PAGE,
    ...(page.before ? { before: page.before } : {}),
    ...(page.after ? { after: page.after } : {}),
  };
}
