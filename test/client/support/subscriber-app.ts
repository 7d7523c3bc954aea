/**
 * "The app" of the suite: code that uses @parley/client's subscription and records what it was
 * handed. One interface, two homes — a Node process (Connect, gRPC) and a page in Chromium
 * (gRPC-Web, Connect-Web) — so every scenario runs unchanged over each transport.
 */
import type { SubscriptionState } from "@parley/client";

/** A state as recorded: status and reason, and the wait the client chose. */
export interface RecordedState {
  readonly status: SubscriptionState["status"];
  readonly reason?: string;
  readonly retryInMs?: number;
  readonly code?: number;
}

/** What a test waits for. */
export type Condition =
  /** every one of these ids has been delivered */
  | { readonly seen: readonly string[] }
  /** a state with this status (and reason) was recorded at or after index `from` of `states` */
  | { readonly state: SubscriptionState["status"]; readonly reason?: string; readonly from?: number };

export interface SubscriberApp {
  /** Subscribes to a room (`gate`: onMessage waits until `release()` before returning). */
  subscribe(roomId: string, options?: { since?: string; gate?: boolean }): Promise<void>;
  /** Ids delivered, in delivery order. */
  seen(): Promise<string[]>;
  states(): Promise<RecordedState[]>;
  gaps(): Promise<{ after: string; before: string }[]>;
  position(): Promise<string>;
  /** Resolves when `condition` holds; rejects after `timeoutMs`. */
  until(condition: Condition, timeoutMs?: number): Promise<void>;
  /** Lets gated handlers return (and stops gating). */
  release(): Promise<void>;
  setToken(token: string): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Whether the recorded history satisfies `condition`. */
export function holds(condition: Condition, seen: readonly string[], states: readonly RecordedState[]): boolean {
  if ("seen" in condition) {
    const all = new Set(seen);
    return condition.seen.every((id) => all.has(id));
  }
  return states.slice(condition.from ?? 0).some((s) => s.status === condition.state && (condition.reason === undefined || s.reason === condition.reason));
}

/** A state as the suite records it (plain data, so it crosses from the page to the test). */
export function record(state: SubscriptionState): RecordedState {
  return {
    status: state.status,
    ...("reason" in state ? { reason: state.reason } : {}),
    ...(state.status === "reconnecting" ? { retryInMs: state.retryInMs, ...(state.error ? { code: state.error.code } : {}) } : {}),
    ...(state.status === "closed" && state.error && typeof state.error === "object" && "code" in state.error ? { code: Number(state.error.code) } : {}),
  };
}
