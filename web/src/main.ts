import { backoffDelay, type User } from "@parley/client/web";
import { client, isAuthError, session } from "./api.js";
import { ConnectionIndicator } from "./connection-indicator.js";
import type { AppContext } from "./context.js";
import { DmFeed } from "./dm-feed.js";
import { h, type View } from "./dom.js";
import { authView } from "./views/auth-view.js";
import { dmConversationView } from "./views/dm-conversation-view.js";
import { dmInboxView } from "./views/dm-inbox-view.js";
import { roomView } from "./views/room-view.js";
import { roomsView } from "./views/rooms-view.js";

const app = document.getElementById("app")!;
const main = h("main", { id: "main" });
let view: View | undefined;
let ctx: AppContext | undefined;

/** Replaces the current view, disposing the old one, and moves focus to the new heading. */
function mount(next: View): void {
  view?.dispose();
  view = next;
  main.replaceChildren(next.element);
  next.element.querySelector<HTMLElement>("h1")?.focus();
}

/** Picks the view for the current hash: #/rooms, #/rooms/<id>, #/dm, #/dm/<userId>. */
function route(): void {
  if (!ctx) return;
  const [, section = "rooms", id] = location.hash.split("/").map(decodeURIComponent);
  document.title = "Parley";
  for (const link of app.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (section === "dm") mount(id ? dmConversationView(ctx, id) : dmInboxView(ctx));
  else mount(id ? roomView(ctx, id) : roomsView(ctx));
}

function showSignIn(notice = ""): void {
  const auth = authView(signedIn);
  if (notice) auth.element.querySelector('[role="alert"]')!.textContent = notice;
  app.replaceChildren(h("header", { class: "top" }, h("span", { class: "brand" }, "Parley")), main);
  mount(auth);
  document.title = "Sign in · Parley";
}

function signedIn(me: User): void {
  const indicator = new ConnectionIndicator();
  const signOut = h("button", { type: "button", class: "secondary", "data-testid": "sign-out" }, "Sign out");
  app.replaceChildren(
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: "#/rooms" }, "Parley"),
      h(
        "nav",
        { "aria-label": "Main" },
        h("a", { href: "#/rooms", "data-section": "rooms", "data-testid": "nav-rooms" }, "Rooms"),
        h("a", { href: "#/dm", "data-section": "dm", "data-testid": "nav-dm" }, "Direct messages"),
      ),
      indicator.element,
      h("span", { class: "me", "data-testid": "me" }, me.username),
      signOut,
    ),
    main,
  );
  const onAuthLost = (): void => endSession("Your session has ended. Please sign in again.");
  ctx = { me, indicator, dms: new DmFeed(indicator, onAuthLost), onAuthLost };
  signOut.addEventListener("click", () => {
    // Stop the streams first so the revoked token ends nothing we still want.
    const token = session.token;
    endSession("");
    if (token) void client.rpc.auth.signOut({}, { headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  });
  route();
}

/** Stops every stream and view, forgets the token, and shows the sign-in form. */
function endSession(notice: string): void {
  if (!ctx) return;
  ctx.dms.stop();
  ctx = undefined;
  view?.dispose();
  view = undefined;
  session.clear();
  showSignIn(notice);
}

/** Resumes the tab's session if its token still works; waits out a server that is down. */
async function boot(): Promise<void> {
  for (let attempt = 0; session.token; attempt++) {
    try {
      return signedIn(await client.getMe());
    } catch (err) {
      if (isAuthError(err)) break;
      main.textContent = "Can't reach the server. Retrying…";
      app.replaceChildren(main);
      await new Promise((r) => setTimeout(r, backoffDelay(attempt, { maxMs: 5_000 })));
    }
  }
  session.clear();
  showSignIn();
}

addEventListener("hashchange", route);
void boot();
