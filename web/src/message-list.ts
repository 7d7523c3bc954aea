import { compareIds, type Message } from "@parley/client/web";
import { h, timeElement } from "./dom.js";

/** How close to the bottom (px) still counts as "reading the newest messages". */
const pinSlackPx = 48;

/**
 * A scrollable list of messages that shows each message id once, in id order,
 * whatever order they arrive in (history pages, live frames, replays after a
 * reconnect, echoes of our own sends). Text is rendered with textContent only.
 */
export class MessageList {
  /** The scroll container; holds the list. */
  readonly element: HTMLElement;
  private readonly list = h("ol", { class: "messages", "data-testid": "message-list", "aria-live": "polite" });
  private readonly ids: string[] = [];
  private readonly items = new Map<string, HTMLLIElement>();

  constructor(
    private readonly myUserId: string,
    label: string,
    top?: Node,
  ) {
    this.element = h("section", { class: "scroller", "aria-label": label, tabindex: 0 }, top, this.list);
  }

  /** Id of the oldest message shown, or "" when empty. */
  get oldestId(): string {
    return this.ids[0] ?? "";
  }

  /** Id of the newest message shown, or "" when empty. */
  get newestId(): string {
    return this.ids.at(-1) ?? "";
  }

  get size(): number {
    return this.ids.length;
  }

  /**
   * Shows messages not shown yet, each at its place in id order. Keeps the
   * view pinned to the bottom when the reader was there, and keeps what the
   * reader sees still when older messages are inserted above. Returns how many were new.
   */
  add(messages: Iterable<Message>): number {
    const scroller = this.element;
    const pinned = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= pinSlackPx;
    const heightBefore = scroller.scrollHeight;
    const anchor = this.list.firstElementChild;
    const anchorTop = anchor?.getBoundingClientRect().top;
    let added = 0;
    for (const m of messages) {
      if (this.items.has(m.messageId)) continue;
      const index = this.insertionIndex(m.messageId);
      const li = this.render(m);
      this.list.insertBefore(li, this.items.get(this.ids[index] ?? "") ?? null);
      this.ids.splice(index, 0, m.messageId);
      this.items.set(m.messageId, li);
      added++;
    }
    if (added === 0) return 0;
    if (pinned) {
      scroller.scrollTop = scroller.scrollHeight;
    } else if (anchor && anchorTop !== undefined && anchor.isConnected) {
      scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    } else {
      scroller.scrollTop += scroller.scrollHeight - heightBefore;
    }
    return added;
  }

  /** Scrolls to the newest message. */
  scrollToEnd(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  private insertionIndex(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.ids[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private render(m: Message): HTMLLIElement {
    const mine = m.sender?.userId === this.myUserId;
    return h(
      "li",
      { class: mine ? "message mine" : "message", "data-testid": "message", "data-message-id": m.messageId },
      h("div", { class: "meta" }, h("span", { class: "sender" }, m.sender?.username ?? "unknown"), " ", timeElement(m.createdAt)),
      h("p", { class: "text", "data-testid": "message-text" }, m.text),
    );
  }
}
