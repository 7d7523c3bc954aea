/**
 * The Parley client: typed calls for every RPC of chat.v1, lossless subscriptions, and sends that
 * are stored once however often their answer is lost — over any Connect transport.
 * `@parley/client/node` and `@parley/client/web` make the transport from a URL and a protocol.
 */
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import type { BackoffOptions } from "./backoff.js";
import { Code, ConnectError } from "./errors.js";
import { AuthService, type CreateStreamTicketResponse, type GetRoomPresenceResponse, type ListRoomsResponse, type Message, MessageService, type ReadState, type Room, RoomService, type SignInResponse, type User } from "./gen.js";
import { newClientMessageId } from "./keys.js";
import { Outbox, type OutboxOptions } from "./outbox.js";
import { type Recipient, sendOnce, type SendOptions } from "./send.js";
import { type ChannelSource, type DirectSubscribeOptions, type RoomSubscribeOptions, subscribe, type Subscription } from "./subscription.js";
import type { SourceOptions, WatchRoomsOptions } from "./subscription-types.js";

/** Where a token comes from: a fixed value (replaced by signIn/setToken), or the app's function. */
export type TokenSource = { token?: string; getToken?: never } | { getToken: () => string | undefined | Promise<string | undefined>; token?: never };

/** Options of every client. */
export type ClientOptions = TokenSource & {
  /**
   * The server's heartbeat interval (HEARTBEAT_SECONDS, default 15 s), used until a server
   * announces its own: a stream with no frame for two intervals is presumed dead and reopened.
   */
  heartbeatIntervalMs?: number;
  /** Reconnect and retry delays (default 250 ms doubling to 10 s, jittered). */
  backoff?: BackoffOptions;
  /** Deadline of each unary call made by the client's own retries and gap paging (default 10 s). */
  callTimeoutMs?: number;
};

/** Options of the transport-agnostic client. */
export type ParleyClientOptions = ClientOptions & {
  /** Any Connect transport to a Parley server (Connect, gRPC or gRPC-Web). */
  transport: Transport;
  /** Called when a stream found its connection dead (a transport that pools connections drops them). */
  onDeadConnection?: () => void;
};

/** A page of a message list: newest first, ids strictly between `after` and `before`. */
export interface MessagePage {
  before?: string;
  after?: string;
  /** 1–1000 (default 50). */
  pageSize?: number;
}

/** The Parley client; every method rejects with a ConnectError (`Code` tells which). */
export interface ParleyClient {
  /** The generated Connect clients, for anything the wrappers do not cover. */
  readonly rpc: {
    readonly auth: Client<typeof AuthService>;
    readonly rooms: Client<typeof RoomService>;
    readonly messages: Client<typeof MessageService>;
  };
  /** The token calls carry (with `getToken`: undefined). */
  readonly token: string | undefined;
  /** Replaces the token (e.g. after a new sign-in elsewhere); then `resume()` closed subscriptions. */
  setToken(token: string | undefined): void;
  signUp(username: string, password: string): Promise<User>;
  /** Signs in; a client without `getToken` carries the new token from then on. */
  signIn(username: string, password: string): Promise<SignInResponse>;
  /** Revokes the token (ending its streams everywhere) and forgets it. */
  signOut(): Promise<void>;
  getMe(): Promise<User>;
  createStreamTicket(): Promise<CreateStreamTicketResponse>;
  /** Rooms, oldest first; pass `nextPageToken` back for the next page ("" = the last). */
  listRooms(page?: { pageSize?: number; pageToken?: string }): Promise<ListRoomsResponse>;
  createRoom(name: string): Promise<Room>;
  getRoom(roomId: string): Promise<Room>;
  /**
   * Who has the room open now, on every node: `count` users, the first 1000 of them by username
   * in `users`. As current as the server's presence batch (about a second). NOT_FOUND for an unknown room.
   */
  getRoomPresence(roomId: string): Promise<GetRoomPresenceResponse>;
  /** A room's messages, newest first. */
  listMessages(roomId: string, page?: MessagePage): Promise<Message[]>;
  /** Direct messages sent to me, newest first; with `withUserId`, my conversation with that user. */
  listDirectMessages(page?: MessagePage & { withUserId?: string }): Promise<Message[]>;
  /**
   * Marks a room read up to one of its messages; a marker never moves back. Resolves with the
   * read state as stored (the unread count after it).
   */
  markRoomRead(roomId: string, messageId: string): Promise<ReadState>;
  /** Marks my conversation with one user read up to one of its messages, as markRoomRead. */
  markDirectMessagesRead(withUserId: string, messageId: string): Promise<ReadState>;
  /**
   * Tells the room's other subscribers that I am typing (`stopped`: that I stopped). Call it
   * while the user types, at most every 2 s (the server drops repeats within 2 s anyway); each
   * call shows for 6 s. Nothing is stored. Rejects with NOT_FOUND for an unknown room.
   */
  setTyping(roomId: string, options?: { stopped?: boolean }): Promise<void>;
  /** Tells one user that I am typing in our conversation, as setTyping. NOT_FOUND for an unknown user. */
  setDirectTyping(withUserId: string, options?: { stopped?: boolean }): Promise<void>;
  /** Posts to a room, stored exactly once (see SendOptions); resolves with the stored message. */
  post(roomId: string, text: string, options?: SendOptions): Promise<Message>;
  /** Sends a direct message, stored exactly once (see SendOptions). */
  sendDirect(to: Recipient, text: string, options?: SendOptions): Promise<Message>;
  /**
   * Every message of the room, once, in order, across reconnects; with `onTyping`, who else is
   * typing there; with `onPresence`, who has it open (see RoomSubscribeOptions).
   */
  subscribeRoom(roomId: string, options: RoomSubscribeOptions): Subscription;
  /**
   * Every direct message sent to me, once, in order, across reconnects; with `onRead`, my read
   * states as my sessions mark channels read (live only, see DirectSubscribeOptions).
   */
  subscribeDirectMessages(options: DirectSubscribeOptions): Subscription;
  /**
   * The room list, live: every room created from now on (or after `since`) to `onRoom`, across
   * reconnects (resumed from `position`); a reconnect may repeat rooms — keep them by id.
   */
  watchRooms(options: WatchRoomsOptions): Subscription;
  /** A queue of sends made while disconnected, sent in order when the server answers again. */
  outbox(options?: OutboxOptions): Outbox;
  /** Closes every subscription and outbox of this client. */
  close(): void;
}

/** A client over the given transport. */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  let token = options.token;
  const getToken = options.getToken ?? ((): string | undefined => token);
  /** The call's headers with `Authorization: Bearer` (unless the caller set one). */
  const withToken = async (header: HeadersInit | undefined): Promise<HeadersInit | undefined> => {
    const current = await getToken();
    if (!current) return header;
    const headers = new Headers(header);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${current}`);
    return headers;
  };
  // The token goes on every call, streams included, read afresh each time (getToken may refresh it).
  const inner = options.transport;
  const transport: Transport = {
    unary: async (method, signal, timeoutMs, header, input, contextValues) => inner.unary(method, signal, timeoutMs, await withToken(header), input, contextValues),
    stream: async (method, signal, timeoutMs, header, input, contextValues) => inner.stream(method, signal, timeoutMs, await withToken(header), input, contextValues),
  };
  const rpc = {
    auth: createClient(AuthService, transport),
    rooms: createClient(RoomService, transport),
    messages: createClient(MessageService, transport),
  };
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const backoff = options.backoff ?? {};
  const live = new Set<() => void>();
  const subscriptions = new Set<Subscription>();
  const outboxes = new Set<Outbox>();
  const deps = {
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
    backoff,
    callTimeoutMs,
    onLive: () => {
      for (const listener of live) listener();
    },
    ...(options.onDeadConnection ? { onDeadConnection: options.onDeadConnection } : {}),
  };
  /** Starts a subscription that client.close() reaches, forgotten once the app closes it. */
  const track = (source: ChannelSource, subscribeOptions: DirectSubscribeOptions | RoomSubscribeOptions | SourceOptions): Subscription => {
    const sub: Subscription = subscribe(
      source,
      {
        ...subscribeOptions,
        onState: (state) => {
          if (state.status === "closed" && state.reason === "closed") subscriptions.delete(sub);
          subscribeOptions.onState?.(state);
        },
      },
      deps,
    );
    if (sub.state.status !== "closed") subscriptions.add(sub);
    return sub;
  };

  const client: ParleyClient = {
    rpc,
    get token() {
      return options.getToken ? undefined : token;
    },
    setToken(next) {
      token = next;
    },
    async signUp(username, password) {
      return required((await rpc.auth.signUp({ username, password })).user, "user");
    },
    async signIn(username, password) {
      const res = await rpc.auth.signIn({ username, password });
      if (!options.getToken) token = res.accessToken;
      return res;
    },
    async signOut() {
      await rpc.auth.signOut({});
      if (!options.getToken) token = undefined;
    },
    async getMe() {
      return required((await rpc.auth.getMe({})).user, "user");
    },
    createStreamTicket: () => rpc.auth.createStreamTicket({}),
    listRooms: (page = {}) => rpc.rooms.listRooms(page),
    async createRoom(name) {
      return required((await rpc.rooms.createRoom({ name })).room, "room");
    },
    async getRoom(roomId) {
      return required((await rpc.rooms.getRoom({ roomId })).room, "room");
    },
    getRoomPresence: (roomId) => rpc.rooms.getRoomPresence({ roomId }),
    async listMessages(roomId, page = {}) {
      return (await rpc.messages.listMessages({ roomId, ...page })).messages;
    },
    async listDirectMessages(page = {}) {
      return (await rpc.messages.listDirectMessages(page)).messages;
    },
    async markRoomRead(roomId, messageId) {
      return required((await rpc.messages.markRoomRead({ roomId, messageId })).readState, "readState");
    },
    async markDirectMessagesRead(withUserId, messageId) {
      return required((await rpc.messages.markDirectMessagesRead({ withUserId, messageId })).readState, "readState");
    },
    async setTyping(roomId, typingOptions = {}) {
      await rpc.messages.setTyping({ roomId, stopped: typingOptions.stopped ?? false });
    },
    async setDirectTyping(withUserId, typingOptions = {}) {
      await rpc.messages.setDirectTyping({ withUserId, stopped: typingOptions.stopped ?? false });
    },
    post(roomId, text, sendOptions = {}) {
      const key = sendOptions.clientMessageId ?? newClientMessageId();
      return sendOnce(
        async (clientMessageId, call) => required((await rpc.messages.postMessage({ roomId, text, clientMessageId }, call)).message, "message"),
        key,
        sendOptions,
        { timeoutMs: callTimeoutMs, backoff },
      );
    },
    sendDirect(to, text, sendOptions = {}) {
      const key = sendOptions.clientMessageId ?? newClientMessageId();
      const recipient = "userId" in to ? { case: "recipientUserId" as const, value: to.userId } : { case: "recipientUsername" as const, value: to.username };
      return sendOnce(
        async (clientMessageId, call) => required((await rpc.messages.sendDirectMessage({ recipient, text, clientMessageId }, call)).message, "message"),
        key,
        sendOptions,
        { timeoutMs: callTimeoutMs, backoff },
      );
    },
    subscribeRoom(roomId, subscribeOptions) {
      const source: ChannelSource = {
        open: (since, call) => rpc.messages.subscribeRoom({ roomId, since, presence: subscribeOptions.onPresence !== undefined }, call),
        list: async (page, call) => (await rpc.messages.listMessages({ roomId, ...page }, call)).messages,
      };
      return track(source, subscribeOptions);
    },
    subscribeDirectMessages(subscribeOptions) {
      const source: ChannelSource = {
        open: (since, call) => rpc.messages.subscribeDirectMessages({ since }, call),
        list: async (page, call) => (await rpc.messages.listDirectMessages(page, call)).messages,
      };
      return track(source, subscribeOptions);
    },
    watchRooms(watchOptions) {
      const source: ChannelSource = {
        open: (since, call) => rpc.rooms.watchRooms({ since }, call),
        // The room list has no gaps to page: the server replays every room after `since`.
        list: () => Promise.resolve([]),
      };
      return track(source, { ...watchOptions, onMessage: () => undefined });
    },
    outbox(outboxOptions = {}) {
      const outbox = new Outbox(client, outboxOptions, { backoff, onLive: (wake) => addRemove(live, wake) });
      outboxes.add(outbox);
      return outbox;
    },
    close() {
      for (const sub of subscriptions) sub.close();
      for (const outbox of outboxes) outbox.close();
      subscriptions.clear();
      outboxes.clear();
    },
  };
  return client;
}

/** Adds `item` to `set`; returns the function that removes it. */
function addRemove<T>(set: Set<T>, item: T): () => void {
  set.add(item);
  return () => set.delete(item);
}

/** A response field proto3 leaves optional but the server always sets. */
function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConnectError(`the server's answer has no ${name}`, Code.Internal);
  return value;
}
