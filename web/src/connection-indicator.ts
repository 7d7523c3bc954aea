import type { SubscriptionState } from "@parley/client/web";
import { h } from "./dom.js";

/** What the indicator shows (`data-state`). */
type Shown = "connecting" | "connected" | "reconnecting" | "offline";

const labels: Record<Shown, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/** How one subscription's state reads on the indicator. */
function shown(state: SubscriptionState): Shown {
  switch (state.status) {
    case "live":
      return "connected";
    case "reconnecting":
      return navigator.onLine === false ? "offline" : "reconnecting";
    case "closed":
      return "offline";
    default:
      return "connecting";
  }
}

/**
 * The page's connection indicator (`data-testid="conn-state"`, state in `data-state`). Each
 * subscription reports its state through its own reporter; the indicator shows the worst of
 * them: offline > reconnecting > connecting > connected.
 */
export class ConnectionIndicator {
  readonly element = h("span", { class: "conn-state", "data-testid": "conn-state", role: "status" });
  private readonly states = new Map<symbol, Shown>();

  constructor() {
    this.render();
  }

  /** A callback for one subscription's state; call the returned `release` when it stops. */
  reporter(name: string): { report: (state: SubscriptionState) => void; release: () => void } {
    const key = Symbol(name);
    return {
      report: (state) => {
        this.states.set(key, shown(state));
        this.render();
      },
      release: () => {
        this.states.delete(key);
        this.render();
      },
    };
  }

  private render(): void {
    const all = new Set(this.states.values());
    const state: Shown = all.has("offline")
      ? "offline"
      : all.has("reconnecting")
        ? "reconnecting"
        : all.has("connecting") || all.size === 0
          ? "connecting"
          : "connected";
    this.element.dataset.state = state;
    this.element.textContent = labels[state];
  }
}
