import type { Subscription } from "@parley/client/web";
import { client, describeError, isAuthError } from "../api.js";
import { createComposer } from "../composer.js";
import type { AppContext } from "../context.js";
import { h, type View } from "../dom.js";
import { HistoryPane } from "../history-pane.js";
import { PresenceLine } from "../presence-line.js";
import { readMarker } from "../read-state.js";
import { roomTyping, TypingLine } from "../typing-line.js";

/**
 * One room: its history, its live messages, and the composer. History is loaded before the
 * subscription opens with `since` = the newest message shown, so nothing falls between the two;
 * the subscription (@parley/client) delivers the rest once each, in order, across reconnects.
 * What the room shows is read: its marker follows the newest message while the tab is visible.
 * Under the title: who has the room open (presence), and above the composer who is typing.
 */
export function roomView(ctx: AppContext, roomId: string): View {
  const title = h("h1", { tabindex: -1, "data-testid": "room-title" }, "Room");
  const status = h("p", { class: "error", role: "alert" });
  const history = new HistoryPane(ctx.me.userId, "Messages", (req) => client.listMessages(roomId, req));
  const typing = new TypingLine();
  const present = new PresenceLine(ctx.me.userId);
  const reporter = roomTyping(roomId);
  const composer = createComposer(
    "Message",
    async (text, clientMessageId) => {
      history.add([await client.post(roomId, text, { clientMessageId, maxAttempts: 4 })]);
    },
    (text, sent) => reporter.input(text, sent),
  );
  const element = h(
    "section",
    { class: "page conversation" },
    h("header", { class: "conversation-head" }, h("a", { href: "#/rooms", class: "back" }, "← Rooms"), title),
    present.element,
    status,
    history.element,
    typing.element,
    composer.element,
  );

  const { report, release } = ctx.indicator.reporter(`room ${roomId}`);
  const marker = readMarker((messageId) => client.markRoomRead(roomId, messageId));
  let subscription: Subscription | undefined;
  let disposed = false;

  async function open(): Promise<void> {
    try {
      const [room] = await Promise.all([client.getRoom(roomId), history.loadLatest()]);
      if (disposed) return;
      title.textContent = room.name;
      document.title = `${title.textContent} · Parley`;
      if (history.list.newestId) marker.seen(history.list.newestId);
    } catch (err) {
      if (disposed) return;
      if (isAuthError(err)) return ctx.onAuthLost();
      status.textContent = describeError(err, { missing: "There is no such room." });
      composer.element.hidden = true;
      return;
    }
    subscription = client.subscribeRoom(roomId, {
      // "0" on an empty room: replay anything posted between the history call and now.
      since: history.list.newestId || "0",
      onMessage: (m) => {
        history.add([m]);
        marker.seen(m.messageId);
        typing.clear(m.sender?.userId);
      },
      // Never my own (the server keeps those from my streams).
      onTyping: (t) => typing.show(t),
      // Asking makes the stream carry who has the room open (me too, once the server's batch runs).
      onPresence: (p) => present.update(p),
      onState: (state) => {
        report(state);
        if (state.status === "closed" && state.reason === "unauthenticated") ctx.onAuthLost();
      },
    });
  }
  void open();

  return {
    element,
    dispose() {
      disposed = true;
      subscription?.close();
      marker.dispose();
      typing.dispose();
      release();
    },
  };
}
