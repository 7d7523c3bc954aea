import type { Message } from "@parley/client/web";
import { client, describeError, isAuthError } from "../api.js";
import { createComposer } from "../composer.js";
import type { AppContext } from "../context.js";
import { h, type View } from "../dom.js";
import { HistoryPane } from "../history-pane.js";
import { usernames } from "../names.js";
import { readMarker } from "../read-state.js";
import { directTyping, TypingLine } from "../typing-line.js";

/**
 * My conversation with one user, both directions: history from
 * ListDirectMessages(with_user_id), their new messages live from the session's
 * DM stream (listened to before history loads), mine as the server returns them. What it shows
 * is read: the conversation's marker follows the newest message while the tab is visible.
 */
export function dmConversationView(ctx: AppContext, otherId: string): View {
  const name = (): string => usernames.get(otherId) ?? `user ${otherId}`;
  const title = h("h1", { tabindex: -1, "data-testid": "dm-title" }, name());
  const status = h("p", { class: "error", role: "alert" });
  const history = new HistoryPane(ctx.me.userId, `Conversation with ${name()}`, async (req) => {
    return client.listDirectMessages({ withUserId: otherId, ...req });
  });
  const typing = new TypingLine();
  const reporter = directTyping(otherId);
  const composer = createComposer(
    `Message to ${name()}`,
    async (text, clientMessageId) => {
      history.add([await client.sendDirect({ userId: otherId }, text, { clientMessageId, maxAttempts: 4 })]);
    },
    (text, sent) => reporter.input(text, sent),
  );
  const element = h(
    "section",
    { class: "page conversation" },
    h("header", { class: "conversation-head" }, h("a", { href: "#/dm", class: "back" }, "← Direct messages"), title),
    status,
    history.element,
    typing.element,
    composer.element,
  );

  const inConversation = (m: Message): boolean => {
    const to = m.target.case === "recipientUserId" ? m.target.value : "";
    const from = m.sender?.userId ?? "";
    return (from === otherId && to === ctx.me.userId) || (from === ctx.me.userId && to === otherId);
  };
  const learnName = (messages: Message[]): void => {
    const theirs = messages.find((m) => m.sender?.userId === otherId)?.sender;
    if (!theirs) return;
    usernames.remember(otherId, theirs.username);
    title.textContent = theirs.username;
    document.title = `${theirs.username} · Parley`;
  };

  const marker = readMarker((messageId) => client.markDirectMessagesRead(otherId, messageId));
  const unlisten = ctx.dms.listen({
    onMessage: (m) => {
      if (!inConversation(m)) return;
      learnName([m]);
      history.add([m]);
      marker.seen(m.messageId);
      typing.clear(m.sender?.userId);
    },
    // The feed carries everyone's typing to me: this conversation shows the other user's.
    onTyping: (t) => {
      if (t.user?.userId === otherId) typing.show(t);
    },
  });
  let disposed = false;
  document.title = `${name()} · Parley`;
  history.loadLatest().then(
    (page) => {
      learnName(page);
      if (history.list.newestId) marker.seen(history.list.newestId);
    },
    (err: unknown) => {
      if (disposed) return;
      if (isAuthError(err)) return ctx.onAuthLost();
      status.textContent = describeError(err, { missing: "There is no such user." });
    },
  );

  return {
    element,
    dispose() {
      disposed = true;
      unlisten();
      marker.dispose();
      typing.dispose();
    },
  };
}
