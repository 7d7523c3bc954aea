/** The suite's app over any ParleyClient: in this Node process, or bundled into the Chromium page. */
import type { ParleyClient, Subscription } from "@parley/client";
import { type Condition, holds, record, type RecordedState, type SubscriberApp } from "./subscriber-app.js";

export class RecordingSubscriber implements SubscriberApp {
  readonly #seen: string[] = [];
  readonly #states: RecordedState[] = [];
  readonly #gaps: { after: string; before: string }[] = [];
  readonly #watchers = new Set<() => void>();
  #sub: Subscription | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(private readonly client: ParleyClient) {}

  async subscribe(roomId: string, options: { since?: string; gate?: boolean } = {}): Promise<void> {
    if (options.gate) this.#gate = new Promise((resolve) => (this.#open = resolve));
    this.#sub = this.client.subscribeRoom(roomId, {
      ...(options.since !== undefined ? { since: options.since } : {}),
      onMessage: async (m) => {
        if (this.#gate) await this.#gate;
        this.#seen.push(m.messageId);
        this.#notify();
      },
      onState: (s) => {
        this.#states.push(record(s));
        this.#notify();
      },
      onGap: (gap) => this.#gaps.push(gap),
    });
  }

  async seen(): Promise<string[]> {
    return [...this.#seen];
  }
  async states(): Promise<RecordedState[]> {
    return [...this.#states];
  }
  async gaps(): Promise<{ after: string; before: string }[]> {
    return [...this.#gaps];
  }
  async position(): Promise<string> {
    return this.#sub?.position ?? "";
  }

  until(condition: Condition, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!holds(condition, this.#seen, this.#states)) return;
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`timed out waiting for ${JSON.stringify(condition).slice(0, 200)}; states: ${JSON.stringify(this.#states.slice(-5))}, seen ${this.#seen.length}`));
      }, timeoutMs);
      this.#watchers.add(check);
      check();
    });
  }

  async release(): Promise<void> {
    this.#gate = undefined;
    this.#open?.();
  }
  async setToken(token: string): Promise<void> {
    this.client.setToken(token);
  }
  async resume(): Promise<void> {
    this.#sub?.resume();
  }
  async close(): Promise<void> {
    this.#sub?.close();
    this.client.close();
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}
