import type { Presence } from "@parley/client/web";
import { h } from "./dom.js";

/** Most names the line spells out; past it, the count only. */
const NAMES_SHOWN = 5;

/**
 * "3 here: alice, bob, you" under a room's title: who has the room open, from the room stream's
 * presence frames (a snapshot after each connect, then the server's batched joins and leaves).
 * The count is the server's, always exact; the names are kept while the server lists them (a
 * snapshot of at most 100, batches of at most 100) and dropped once a frame says `truncated`.
 */
export class PresenceLine {
  readonly element = h("p", { class: "presence muted", "data-testid": "presence" });
  readonly #names = new Map<string, string>();
  #complete = true;

  constructor(private readonly myUserId: string) {}

  /** A presence frame of the room's stream. */
  update(presence: Presence): void {
    if (presence.snapshot) {
      this.#names.clear();
      this.#complete = !presence.truncated;
    } else if (presence.truncated) {
      this.#complete = false;
    }
    for (const user of presence.joined) this.#names.set(user.userId, user.username);
    for (const user of presence.left) this.#names.delete(user.userId);
    this.#render(presence.count);
  }

  #render(count: number): void {
    const here = `${count.toLocaleString("en")} here`;
    if (!this.#complete || this.#names.size !== count || count === 0) {
      this.element.textContent = count === 0 ? "" : here;
      return;
    }
    const names = [...this.#names].map(([id, name]) => (id === this.myUserId ? "you" : name)).sort((a, b) => (a === "you" ? 1 : b === "you" ? -1 : a.localeCompare(b)));
    const listed = names.slice(0, NAMES_SHOWN).join(", ");
    this.element.textContent = `${here}: ${listed}${names.length > NAMES_SHOWN ? ", …" : ""}`;
  }
}
