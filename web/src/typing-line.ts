import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Typing } from "@parley/client/web";
import { client } from "./api.js";
import { h } from "./dom.js";

/** How long a typing frame shows when its `until` is unusable (the server's TYPING_TTL). */
const TTL_MS = 6_000;
/** The server drops repeats within 2 s; calling less often keeps the network quiet. */
const RENEW_MS = 2_000;

/** How long from now a typing frame shows: until its `until`, or TTL_MS from receipt when the clocks disagree (outside (0, TTL_MS]). */
export function typingMs(typing: Typing): number {
  const remaining = typing.until ? timestampMs(typing.until) - Date.now() : TTL_MS;
  return remaining > 0 && remaining <= TTL_MS ? remaining : TTL_MS;
}

/**
 * The "alice is typing…" line of a room or conversation: who else is typing, each until their
 * frame's `until` (TTL_MS from receipt when this clock and the server's disagree), a stop, or
 * their next message. Polite live region: a screen reader hears it without losing its place.
 */
export class TypingLine {
  readonly element = h("p", { class: "typing muted", "aria-live": "polite", "data-testid": "typing" });
  readonly #typists = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();

  /** A typing frame: show, renew or (stopped) hide that user's indicator. */
  show(typing: Typing): void {
    const user = typing.user;
    if (!user) return;
    this.#forget(user.userId);
    if (!typing.stopped) {
      this.#typists.set(user.userId, { name: user.username, timer: setTimeout(() => this.clear(user.userId), typingMs(typing)) });
    }
    this.#render();
  }

  /** That user's message arrived, or their indicator ran out: hide it. */
  clear(userId: string | undefined): void {
    if (userId === undefined || !this.#typists.has(userId)) return;
    this.#forget(userId);
    this.#render();
  }

  dispose(): void {
    for (const id of [...this.#typists.keys()]) this.#forget(id);
  }

  #forget(userId: string): void {
    const held = this.#typists.get(userId);
    if (held) clearTimeout(held.timer);
    this.#typists.delete(userId);
  }

  #render(): void {
    const names = [...this.#typists.values()].map((t) => t.name);
    this.element.textContent =
      names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : "Several people are typing…";
  }
}

/**
 * Tells the server as the reader types: a start at most every RENEW_MS while the input has text,
 * a stop when it is emptied (sending clears it too, but the message itself hides the indicator, so
 * no stop is sent then). Failures are ignored: an indicator is not worth an error message.
 */
export function typingReporter(set: (stopped: boolean) => Promise<void>): { input(text: string, sent?: boolean): void } {
  let lastStart = 0;
  return {
    input(text, sent = false) {
      const now = Date.now();
      if (text.trim() !== "") {
        if (now - lastStart < RENEW_MS) return;
        lastStart = now;
        set(false).catch(() => undefined);
      } else if (lastStart !== 0) {
        lastStart = 0;
        if (!sent) set(true).catch(() => undefined);
      }
    },
  };
}

/** The reporter of a room. */
export const roomTyping = (roomId: string) => typingReporter((stopped) => client.setTyping(roomId, { stopped }));
/** The reporter of my conversation with one user. */
export const directTyping = (userId: string) => typingReporter((stopped) => client.setDirectTyping(userId, { stopped }));
