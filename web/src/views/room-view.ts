import { api, describeError, isAuthError } from "../api.js";
import { createComposer } from "../composer.js";
import type { AppContext } from "../context.js";
import { h, type View } from "../dom.js";
import { HistoryPane } from "../history.js";
import { startLiveStream, type LiveStream } from "../live-stream.js";

/**
 * One room: its history, its live messages, and the composer. History is
 * loaded before the live stream opens with `since` = the newest message shown,
 * so nothing falls between the two; the list shows each message id once.
 */
export function roomView(ctx: AppContext, roomId: string): View {
  const title = h("h1", { tabindex: -1, "data-testid": "room-title" }, "Room");
  const status = h("p", { class: "error", role: "alert" });
  const history = new HistoryPane(ctx.me.userId, "Messages", async (req) => {
    return (await api.messages.listMessages({ roomId, ...req })).messages;
  });
  const composer = createComposer("Message", async (text, clientMessageId) => {
    const res = await api.messages.postMessage({ roomId, text, clientMessageId });
    if (res.message) history.add([res.message]);
  });
  const element = h(
    "section",
    { class: "page conversation" },
    h("header", { class: "conversation-head" }, h("a", { href: "#/rooms", class: "back" }, "← Rooms"), title),
    status,
    history.element,
    composer.element,
  );

  const { report, release } = ctx.indicator.reporter(`room ${roomId}`);
  let stream: LiveStream | undefined;
  let disposed = false;

  async function open(): Promise<void> {
    try {
      const [res] = await Promise.all([api.rooms.getRoom({ roomId }), history.loadLatest()]);
      if (disposed) return;
      title.textContent = res.room?.name ?? "Room";
      document.title = `${title.textContent} · Parley`;
    } catch (err) {
      if (disposed) return;
      if (isAuthError(err)) return ctx.onAuthLost();
      status.textContent = describeError(err, { missing: "There is no such room." });
      composer.element.hidden = true;
      return;
    }
    stream = startLiveStream({
      // "0" on an empty room: replay anything posted between the history call and now.
      since: history.list.newestId || "0",
      open: (since, signal) => api.messages.subscribeRoom({ roomId, since }, { signal }),
      onMessage: (m) => history.add([m]),
      onGap: (gap) => void history.fillGap(gap),
      onState: report,
      onAuthLost: ctx.onAuthLost,
    });
  }
  void open();

  return {
    element,
    dispose() {
      disposed = true;
      stream?.stop();
      release();
    },
  };
}
