import type { Message } from "@parley/client/web";
import { describeError } from "./api.js";
import { h } from "./dom.js";
import { MessageList } from "./message-list.js";

/** Size of every history page the page asks for. */
export const pageSize = 50;
/** Within this many pixels of the top, scrolling loads the next older page. */
const loadOlderAtPx = 80;

/** Fetches one page, newest first: ids < `before` (if set), at most `pageSize`. */
export type PageFn = (page: { before: string; pageSize: number }) => Promise<Message[]>;

/**
 * A message list backed by a List RPC: the newest page first, older pages when the reader
 * scrolls to the top (or presses "Load older messages"). Live messages — and any gap the
 * subscription paged for us — go through `add`.
 */
export class HistoryPane {
  readonly list: MessageList;
  private readonly older = h("button", { type: "button", class: "link", "data-testid": "load-older", hidden: true }, "Load older messages");
  private readonly start = h("p", { class: "muted", hidden: true, "data-testid": "history-start" }, "This is the beginning.");
  private readonly status = h("p", { class: "error", role: "alert" });
  private hasOlder = false;
  private loading = false;

  constructor(
    myUserId: string,
    label: string,
    private readonly fetchPage: PageFn,
  ) {
    this.list = new MessageList(myUserId, label, h("div", { class: "history-top" }, this.older, this.start, this.status));
    this.older.addEventListener("click", () => void this.loadOlder());
    this.list.element.addEventListener("scroll", () => {
      if (this.list.element.scrollTop < loadOlderAtPx) void this.loadOlder();
    });
  }

  get element(): HTMLElement {
    return this.list.element;
  }

  /** Loads the newest page, scrolls to it and returns it. Rejects when the page can't be loaded. */
  async loadLatest(): Promise<Message[]> {
    const page = await this.fetchPage({ before: "", pageSize });
    this.showPage(page);
    this.list.scrollToEnd();
    return page;
  }

  /** Shows messages (live, sent or replayed); ones already shown are ignored. */
  add(messages: Iterable<Message>): void {
    this.list.add(messages);
  }

  private showPage(page: Message[]): void {
    this.hasOlder = page.length === pageSize;
    this.older.hidden = !this.hasOlder;
    this.start.hidden = this.hasOlder;
    this.list.add(page);
  }

  private async loadOlder(): Promise<void> {
    if (this.loading || !this.hasOlder) return;
    this.loading = true;
    this.older.disabled = true;
    this.status.textContent = "";
    try {
      this.showPage(await this.fetchPage({ before: this.list.oldestId, pageSize }));
    } catch (err) {
      this.status.textContent = `Couldn't load older messages. ${describeError(err)}`;
    } finally {
      this.loading = false;
      this.older.disabled = false;
    }
  }
}
