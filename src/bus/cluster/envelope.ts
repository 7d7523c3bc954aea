/** How a bus event travels over the cluster's IPC channels, told apart from other IPC messages. */
import type { BusEvent } from "../bus.js";

export interface BusEnvelope {
  readonly parleyBus: BusEvent;
}

export function isBusEnvelope(message: unknown): message is BusEnvelope {
  return typeof message === "object" && message !== null && "parleyBus" in message;
}
