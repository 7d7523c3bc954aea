import type { Gap, Message } from "../../gen/chat/v1/types_pb.js";
import { api } from "./api.js";
import type { ConnectionIndicator } from "./conn-state.js";
import { startLiveStream, type LiveStream } from "./live-stream.js";

/** Receives each direct message sent to me that arrives live, and any stretch the server skipped. */
export interface DmListener {
  onMessage(message: Message): void;
  /** Messages with after < id < before were not streamed; page them with ListDirectMessages. */
  onGap?(gap: Gap): void;
}

/**
 * The signed-in user's live direct-message stream, open for the whole session
 * and shared by the inbox and conversation views. Listeners registered before
 * a view loads its history see every message that history might miss; each
 * view de-duplicates by id.
 */
export class DmFeed {
  private readonly listeners = new Set<DmListener>();
  private readonly stream: LiveStream;
  private readonly release: () => void;

  constructor(indicator: ConnectionIndicator, onAuthLost: () => void) {
    const { report, release } = indicator.reporter("direct messages");
    this.release = release;
    this.stream = startLiveStream({
      open: (since, signal) => api.messages.subscribeDirectMessages({ since }, { signal }),
      onMessage: (m) => {
        for (const listener of this.listeners) listener.onMessage(m);
      },
      onGap: (gap) => {
        for (const listener of this.listeners) listener.onGap?.(gap);
      },
      onState: report,
      onAuthLost,
    });
  }

  /** Registers a listener; returns the function that removes it. */
  listen(listener: DmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stream.stop();
    this.release();
    this.listeners.clear();
  }
}
