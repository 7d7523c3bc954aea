import type { Message, ReadState, Subscription, Typing } from "@parley/client/web";
import { client } from "./api.js";
import type { ConnectionIndicator } from "./connection-indicator.js";

/** Receives each direct message sent to me, once, in order (gaps included: the library pages them), and my read states. */
export interface DmListener {
  onMessage?(message: Message): void;
  /** My read state of a channel, as one of my sessions (this one too) marked it read. */
  onRead?(state: ReadState): void;
  /** Someone typing to me in our conversation (`typing.user`), or stopping. */
  onTyping?(typing: Typing): void;
}

/**
 * The signed-in user's direct-message subscription, open for the whole session and shared by
 * the inbox and conversation views. Listeners registered before a view loads its history see
 * every message that history might miss; each view de-duplicates by id.
 */
export class DmFeed {
  private readonly listeners = new Set<DmListener>();
  private readonly subscription: Subscription;
  private readonly release: () => void;

  constructor(indicator: ConnectionIndicator, onAuthLost: () => void) {
    const { report, release } = indicator.reporter("direct messages");
    this.release = release;
    this.subscription = client.subscribeDirectMessages({
      onMessage: (m) => {
        for (const listener of this.listeners) listener.onMessage?.(m);
      },
      onRead: (state) => {
        for (const listener of this.listeners) listener.onRead?.(state);
      },
      onTyping: (typing) => {
        for (const listener of this.listeners) listener.onTyping?.(typing);
      },
      onState: (state) => {
        report(state);
        if (state.status === "closed" && state.reason === "unauthenticated") onAuthLost();
      },
    });
  }

  /** Registers a listener; returns the function that removes it. */
  listen(listener: DmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.subscription.close();
    this.release();
    this.listeners.clear();
  }
}
