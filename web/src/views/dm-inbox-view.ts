import { compareIds, type Message, type ReadState, type Typing } from "@parley/client/web";
import { client, describeError, isAuthError } from "../api.js";
import type { AppContext } from "../context.js";
import { busy, h, timeElement, type View } from "../dom.js";
import { usernames } from "../names.js";
import { replaceBadge, unreadBadge } from "../read-state.js";
import { typingMs } from "../typing-line.js";

/** Link to my conversation with a user. */
export const conversationHref = (userId: string): string => `#/dm/${encodeURIComponent(userId)}`;

/**
 * Direct messages: a form to write to anyone by username, and my inbox — one
 * entry per sender with their latest message and my unread count of our conversation, newest
 * first, updated live (each new message of theirs is one more unread), and "typing…" in place of
 * the latest message while that user types to me.
 */
export function dmInboxView(ctx: AppContext): View {
  const recipient = h("input", {
    id: "dm-recipient",
    name: "recipient",
    required: true,
    maxlength: 32,
    autocomplete: "off",
    autocapitalize: "none",
    spellcheck: "false",
    "data-testid": "dm-recipient",
  });
  const text = h("textarea", { id: "dm-text", name: "text", rows: 2, required: true, maxlength: 4000, "data-testid": "dm-text" });
  const error = h("p", { class: "error", role: "alert", "data-testid": "dm-error" });
  const form = h(
    "form",
    { class: "inline-form", "data-testid": "dm-start-form" },
    h("h2", {}, "New message"),
    h("div", { class: "field" }, h("label", { for: "dm-recipient" }, "To (username)"), recipient),
    h("div", { class: "field" }, h("label", { for: "dm-text" }, "Message"), text),
    h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "dm-send" }, "Send")),
    error,
  );
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  const threads = h("ul", { class: "threads", "data-testid": "dm-inbox" });
  const element = h("section", { class: "page" }, h("h1", { tabindex: -1 }, "Direct messages"), form, h("h2", {}, "Inbox"), status, threads);

  /** The latest message from each sender, and its list item. */
  const latest = new Map<string, { message: Message; item: HTMLLIElement }>();
  /** My read state of each sender's conversation, as listed, then counted on by live messages. */
  const unread = new Map<string, ReadState>();
  /** Who is typing to me: until their frame's `until`, a stop, or their message. */
  const typing = new Map<string, ReturnType<typeof setTimeout>>();

  function setTyping(userId: string, on: Typing | undefined): void {
    clearTimeout(typing.get(userId));
    typing.delete(userId);
    if (on) typing.set(userId, setTimeout(() => setTyping(userId, undefined), typingMs(on)));
    const item = latest.get(userId)?.item;
    item?.classList.toggle("typing-now", on !== undefined);
    const snippet = item?.querySelector<HTMLElement>(".snippet");
    if (snippet) snippet.textContent = on ? "typing…" : (latest.get(userId)?.message.text ?? "");
  }

  function show(messages: Iterable<Message>, live = false): void {
    for (const m of messages) {
      const from = m.sender;
      if (!from || from.userId === ctx.me.userId) continue;
      usernames.remember(from.userId, from.username);
      const current = latest.get(from.userId);
      if (current && compareIds(current.message.messageId, m.messageId) >= 0) continue;
      if (live) countUnread(from.userId);
      const item = threadItem(m, unread.get(from.userId));
      current?.item.replaceWith(item);
      latest.set(from.userId, { message: m, item });
      // Their message ends their typing.
      if (typing.has(from.userId)) setTyping(from.userId, undefined);
    }
    const ordered = [...latest.values()].sort((a, b) => compareIds(b.message.messageId, a.message.messageId));
    threads.replaceChildren(...ordered.map((t) => t.item));
    status.textContent = ordered.length === 0 ? "No messages yet." : "";
  }

  function countUnread(userId: string): void {
    const state = unread.get(userId);
    if (!state) return; // not listed yet: the list's count includes it
    const unreadCount = Math.min(100, state.unreadCount + 1);
    unread.set(userId, { ...state, unreadCount, moreUnread: state.moreUnread || state.unreadCount === 100 });
  }

  const unlisten = ctx.dms.listen({
    onMessage: (m) => show([m], true),
    onTyping: (t) => {
      if (t.user) setTyping(t.user.userId, t.stopped ? undefined : t);
    },
    // A conversation read in another tab or device (or this one) loses its badge here too.
    onRead: (state) => {
      if (state.channel.case !== "withUserId") return;
      unread.set(state.channel.value, state);
      const head = latest.get(state.channel.value)?.item.querySelector(".thread-head");
      if (head) replaceBadge(head, state);
    },
  });
  let disposed = false;
  client.rpc.messages.listDirectMessages({ pageSize: 200 }).then(
    ({ messages, readStates }) => {
      if (disposed) return;
      for (const state of readStates) if (state.channel.case === "withUserId") unread.set(state.channel.value, state);
      show(messages);
    },
    (err: unknown) => {
      if (disposed) return;
      if (isAuthError(err)) return ctx.onAuthLost();
      status.textContent = `Couldn't load your inbox. ${describeError(err)}`;
    },
  );

  // Retrying the same text to the same user reuses its idempotency key.
  let pending: { attempt: string; key: string } | undefined;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    const username = recipient.value.trim();
    const attempt = JSON.stringify([username, text.value]);
    if (pending?.attempt !== attempt) pending = { attempt, key: crypto.randomUUID() };
    const clientMessageId = pending.key;
    void busy(form, async () => {
      try {
        const message = await client.sendDirect({ username }, text.value, { clientMessageId, maxAttempts: 4 });
        pending = undefined;
        const to = message.target;
        if (to?.case === "recipientUserId") {
          usernames.remember(to.value, username);
          location.hash = conversationHref(to.value);
        }
      } catch (err) {
        error.textContent = describeError(err, { missing: `There is no user called “${username}”.` });
      }
    }).then(() => {
      if (error.textContent) recipient.focus();
    });
  });

  return {
    element,
    dispose() {
      disposed = true;
      unlisten();
      for (const timer of typing.values()) clearTimeout(timer);
    },
  };
}

function threadItem(m: Message, read: ReadState | undefined): HTMLLIElement {
  const from = m.sender!;
  return h(
    "li",
    {},
    h(
      "a",
      { href: conversationHref(from.userId), "data-testid": "dm-thread", "data-user-id": from.userId },
      h("span", { class: "thread-head" }, h("strong", {}, from.username), ...unreadBadge(read), " ", timeElement(m.createdAt)),
      h("span", { class: "snippet", "data-testid": "dm-snippet" }, m.text),
    ),
  );
}
