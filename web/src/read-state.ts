/** The reader's side of read markers: what the page marks read, and how an unread count shows. */
import { compareIds, type ReadState } from "@parley/client/web";
import { h } from "./dom.js";

/** What a view tells its channel's read marker. */
export interface ReadMarker {
  /** A message the reader now sees (shown in the open view); the marker follows the newest. */
  seen(messageId: string): void;
  dispose(): void;
}

/**
 * Moves a channel's read marker (MarkRoomRead, MarkDirectMessagesRead) to the newest message
 * shown, while the tab is visible: a message that arrives in a hidden tab stays unread until the
 * reader comes back. One call at a time; messages seen meanwhile are marked by the next. A failed
 * call is not retried — the next message seen, or the next visit, marks again (markers never move
 * back, so marking twice is harmless).
 */
export function readMarker(mark: (messageId: string) => Promise<unknown>): ReadMarker {
  let newest = "";
  let marked = "";
  let inFlight = false;
  let disposed = false;

  function flush(): void {
    if (disposed || inFlight || newest === "" || newest === marked || document.visibilityState !== "visible") return;
    const target = newest;
    inFlight = true;
    mark(target).then(
      () => {
        marked = target;
      },
      () => {},
    ).finally(() => {
      inFlight = false;
      if (marked === target) flush();
    });
  }

  const onVisibility = (): void => flush();
  document.addEventListener("visibilitychange", onVisibility);
  return {
    seen(messageId) {
      if (newest === "" || compareIds(messageId, newest) > 0) newest = messageId;
      flush();
    },
    dispose() {
      disposed = true;
      document.removeEventListener("visibilitychange", onVisibility);
    },
  };
}

/** "3" (or "100+") unread messages of others, or nothing when all is read. */
export function unreadBadge(read: ReadState | undefined): HTMLElement[] {
  if (!read || read.unreadCount === 0) return [];
  const count = read.moreUnread ? `${read.unreadCount}+` : String(read.unreadCount);
  return [h("span", { class: "badge", "data-testid": "unread-badge", "aria-label": `${count} unread` }, count)];
}

/** Shows `read`'s badge in `holder` in place of the one it had (a read state from another session). */
export function replaceBadge(holder: Element, read: ReadState): void {
  holder.querySelector('[data-testid="unread-badge"]')?.remove();
  const [badge] = unreadBadge(read);
  if (badge) holder.querySelector(".room-name, strong")?.after(badge);
}
