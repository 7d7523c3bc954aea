/**
 * The bus port: how a stored message (and a token revocation) reaches every node that has live
 * subscribers for it. Adapters: bus/memory (one process), bus/kafka (many nodes).
 *
 * Guarantees every adapter gives (checked by test/contract/bus-contract.ts):
 * - per channel order: events of one room / one inbox are delivered in the order published;
 * - at most once per node from the bus's side; a node that misses events (restart, rebalance)
 *   relies on clients resuming from the store with `since`, so nothing is lost to a user.
 */
import type { ChatMessage } from "../domain/model.js";

export type BusEvent =
  | { readonly type: "message"; readonly message: ChatMessage }
  | { readonly type: "token_revoked"; readonly tokenId: string; readonly expiresAtMs: number };

export type BusListener = (event: BusEvent) => void;

export interface Bus {
  /** Sends an event to every node, this one included. Resolves once the bus has accepted it. */
  publish(event: BusEvent): Promise<void>;
  /** Starts delivering events to the listener; call once, before publishing. */
  start(listener: BusListener): Promise<void>;
  /** Stops delivery and releases connections. */
  close(): Promise<void>;
}
