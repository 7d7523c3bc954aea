import { h } from "./dom.js";
import type { LinkState } from "./live-stream.js";

const labels: Record<LinkState, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/**
 * The page's connection indicator (`data-testid="conn-state"`, state in
 * `data-state`). Each live stream reports through its own reporter; the
 * indicator shows the worst of them: offline > reconnecting > connecting > connected.
 */
export class ConnectionIndicator {
  readonly element = h("span", { class: "conn-state", "data-testid": "conn-state", role: "status" });
  private readonly states = new Map<symbol, LinkState>();

  constructor() {
    this.render();
  }

  /** A callback for one stream's state; call the returned `release` when that stream stops. */
  reporter(name: string): { report: (state: LinkState) => void; release: () => void } {
    const key = Symbol(name);
    return {
      report: (state) => {
        this.states.set(key, state);
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
    const state: LinkState = all.has("offline")
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
