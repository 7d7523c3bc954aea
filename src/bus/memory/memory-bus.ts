/** The single-process bus: publishing delivers straight to this node's listener, in order. */
import type { Bus, BusEvent, BusListener } from "../bus.js";

export class MemoryBus implements Bus {
  #listener: BusListener | undefined;

  async start(listener: BusListener): Promise<void> {
    this.#listener = listener;
  }

  async publish(event: BusEvent): Promise<void> {
    // Synchronous hand-off keeps publish order = delivery order without a queue.
    this.#listener?.(event);
  }

  async close(): Promise<void> {
    this.#listener = undefined;
  }
}
