import type { Message } from "../../gen/chat/v1/types_pb.js";
import { describeError } from "./api.js";
import { h } from "./dom.js";
import { MessageList } from "./message-list.js";

/** Size of every history page the page asks for. */
export const pageSize = 50;
/** Within this many pixels of the top, scrolling loads the next older page. */
const loadOlderAtPx = 80;

/** Fetches one page, newest first: ids < `before` (if set) and > `after` (if set), at most `pageSize`. */
export type PageFn = (req: { before: string; after: string; pageSize: number }) => Promise<Message[]>;

/**
 * A message list backed by a List RPC: the newest page first, older pages when
 * the reader scrolls to the top (or presses "Load older messages"), and the
 * stretch a stream Gap frame reports as skipped. Live messages go through `add`.
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
    const page = await this.fetchPage({ before: "", after: "", pageSize });
    this.showPage(page);
    this.list.scrollToEnd();
    return page;
  }

  /** Shows messages (live, sent or replayed); ones already shown are ignored. */
  add(messages: Iterable<Message>): void {
    this.list.add(messages);
  }

  /** Loads the messages with after < id < before, page by page from `before` down (at most 20 pages). */
  async fillGap(gap: { after: string; before: string }): Promise<void> {
    let before = gap.before;
    for (let i = 0; i < 20; i++) {
      const page = await this.fetchPage({ before, after: gap.after, pageSize: 200 });
      this.list.add(page);
      const oldest = page.at(-1);
      if (page.length < 200 || !oldest) return;
      before = oldest.messageId;
    }
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
      this.showPage(await this.fetchPage({ before: this.list.oldestId, after: "", pageSize }));
    } catch (err) {
      this.status.textContent = `Couldn't load older messages. ${describeError(err)}`;
    } finally {
      this.loading = false;
      this.older.disabled = false;
    }
  }
}
