/**
 * @parley/client — a TypeScript client for Parley over any Connect transport. For a transport made
 * from a URL, import `@parley/client/node` (Connect, gRPC, gRPC-Web) or `@parley/client/web`
 * (Connect, gRPC-Web); both export everything below too.
 */
export { createParleyClient } from "./client.js";
export type { ClientOptions, MessagePage, ParleyClient, ParleyClientOptions, TokenSource } from "./client.js";
export type { DirectSubscribeOptions, RoomSubscribeOptions, Subscription, SubscribeOptions, SubscriptionState } from "./subscription.js";
export type { WatchRoomsOptions } from "./subscription-types.js";
export type { Recipient, SendOptions } from "./send.js";
export type { Outbox, OutboxItem, OutboxOptions, OutboxStorage } from "./outbox.js";
export type { CloseReason, DisconnectReason } from "./errors.js";
export { Code, ConnectError, isRetryable, retryAfterMs } from "./errors.js";
export { type BackoffOptions, backoffDelay } from "./backoff.js";
export { compareIds, maxId } from "./ids.js";
export { newClientMessageId } from "./keys.js";
export type { CreateStreamTicketResponse, Gap, GetRoomPresenceResponse, ListRoomsResponse, Message, Presence, ReadState, Room, Sender, SignInResponse, Typing, User } from "./gen.js";
