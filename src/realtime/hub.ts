/**
 * The node-local hub: which live subscribers want which channel, and which open streams belong
 * to which token. It hands each message to every subscriber of its channel once, in the order
 * the bus delivers them (per-channel order), and never blocks on a slow subscriber.
 */
import type { BusEvent } from "../bus/bus.js";
import { type Channel, type ChatMessage, channelKey } from "../domain/model.js";

/** Something that receives a channel's messages; deliver() must not throw or block. */
export interface Subscriber {
  deliver(message: ChatMessage): void;
}

export class Hub {
  readonly #byChannel = new Map<string, Set<Subscriber>>();
  readonly #byToken = new Map<string, Set<() => void>>();
  #deliveries = 0;

  /** Adds a subscriber to a channel; returns the function that removes it. */
  subscribe(channel: Channel, subscriber: Subscriber): () => void {
    const key = channelKey(channel);
    let set = this.#byChannel.get(key);
    if (!set) this.#byChannel.set(key, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.#byChannel.get(key) === set) this.#byChannel.delete(key);
    };
  }

  /** Registers a stream opened with a token, so revoking the token ends it. */
  trackSession(tokenId: string, end: () => void): () => void {
    let set = this.#byToken.get(tokenId);
    if (!set) this.#byToken.set(tokenId, (set = new Set()));
    set.add(end);
    return () => {
      set.delete(end);
      if (set.size === 0 && this.#byToken.get(tokenId) === set) this.#byToken.delete(tokenId);
    };
  }

  /** Applies one bus event: fans a message out, or ends a revoked token's streams. */
  dispatch(event: BusEvent): void {
    if (event.type === "message") {
      const set = this.#byChannel.get(channelKey(event.message.channel));
      if (!set) return;
      for (const subscriber of set) subscriber.deliver(event.message);
      this.#deliveries += set.size;
    } else {
      const ends = this.#byToken.get(event.tokenId);
      if (ends) for (const end of [...ends]) end();
    }
  }

  /** How many subscriber deliveries the hub has made since start (for metrics). */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Live subscribers of one channel (for tests and metrics). */
  subscriberCount(channel: Channel): number {
    return this.#byChannel.get(channelKey(channel))?.size ?? 0;
  }
}
