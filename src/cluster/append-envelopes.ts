/**
 * How sequenced appends travel over a cluster's IPC channels (worker → primary → worker),
 * told apart from bus envelopes and other IPC messages. Everything in them is plain JSON.
 */
import type { ChatMessage } from "../domain/model.js";
import type { AppendResult, IdempotencyKey } from "../store/store.js";

/** A worker asks the primary to store a message (the primary gives it its final id). */
export interface AppendRequest {
  readonly parleyAppend: { readonly ref: number; readonly message: ChatMessage; readonly idempotency?: IdempotencyKey };
}

/** The primary's answer to one AppendRequest: the stored message, or why it failed. */
export interface AppendReply {
  readonly parleyAppended: { readonly ref: number; readonly result?: AppendResult; readonly error?: string };
}

export function isAppendRequest(message: unknown): message is AppendRequest {
  return typeof message === "object" && message !== null && "parleyAppend" in message;
}

export function isAppendReply(message: unknown): message is AppendReply {
  return typeof message === "object" && message !== null && "parleyAppended" in message;
}
