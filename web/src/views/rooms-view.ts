import { compareIds, type ReadState, type Room } from "@parley/client/web";
import { client, describeError } from "../api.js";
import { busy, h, timeElement, type View } from "../dom.js";
import type { AppContext } from "../context.js";
import { replaceBadge, unreadBadge } from "../read-state.js";

/** Link to a room's view. */
export const roomHref = (roomId: string): string => `#/rooms/${encodeURIComponent(roomId)}`;

/**
 * The room list (oldest first, "Load more" while the server has more pages), each room with my
 * unread count (cleared when any session of mine reads the room), and a form to create a room;
 * a taken name is reported next to the field.
 *
 * The list is live (RoomService.WatchRooms): the watch opens first and the first page is read
 * once it is live, so a room created meanwhile is in the page, in the watch, or both — never in
 * neither. Every room is placed by id (the order ListRooms gives), once; a live room past the
 * last loaded page waits for "Load more", which brings it from the store.
 */
export function roomsView(ctx: AppContext): View {
  const list = h("ul", { class: "rooms", "data-testid": "room-list" });
  const status = h("p", { class: "muted", role: "status", "data-testid": "rooms-status" }, "Loading rooms…");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more rooms");
  const name = h("input", {
    id: "room-name",
    name: "name",
    required: true,
    maxlength: 64,
    autocomplete: "off",
    "aria-describedby": "room-error",
    "data-testid": "room-name",
  });
  const error = h("p", { id: "room-error", class: "error", role: "alert", "data-testid": "room-error" });
  const form = h(
    "form",
    { class: "inline-form", "data-testid": "create-room-form" },
    h("label", { for: "room-name" }, "New room"),
    h("div", { class: "row" }, name, h("button", { type: "submit", "data-testid": "create-room" }, "Create")),
    error,
  );
  const element = h(
    "section",
    { class: "page" },
    h("h1", { tabindex: -1 }, "Rooms"),
    form,
    h("h2", {}, "All rooms"),
    status,
    list,
    more,
  );

  let nextPageToken = "";
  let disposed = false;
  /** Whether a page was loaded yet; live rooms received before wait in `early`. */
  let loaded = false;
  const early: Room[] = [];

  /** Places a room among the listed ones by id, unless it is there already. */
  function place(room: Room, read: ReadState | undefined): void {
    if (list.querySelector(`[data-room-id="${CSS.escape(room.roomId)}"]`)) return;
    const after = [...list.children].find((li) => compareIds(li.querySelector("[data-room-id]")!.getAttribute("data-room-id")!, room.roomId) > 0);
    list.insertBefore(roomItem(room, read), after ?? null);
  }

  /** A room from the watch: placed when it falls within what is loaded (a later page brings the others). */
  function placeLive(room: Room): void {
    if (!loaded) return void early.push(room);
    const last = list.lastElementChild?.querySelector("[data-room-id]")?.getAttribute("data-room-id");
    if (nextPageToken !== "" && last != null && compareIds(room.roomId, last) > 0) return;
    place(room, undefined);
    status.textContent = "";
  }

  async function load(): Promise<void> {
    more.disabled = true;
    try {
      const res = await client.listRooms({ pageToken: nextPageToken });
      if (disposed) return;
      res.rooms.forEach((room, i) => place(room, res.readStates[i]));
      nextPageToken = res.nextPageToken;
      if (!loaded) {
        loaded = true;
        for (const room of early.splice(0)) placeLive(room);
      }
      more.hidden = nextPageToken === "";
      status.textContent = list.childElementCount === 0 ? "No rooms yet. Create the first one." : "";
    } catch (err) {
      status.textContent = `Couldn't load rooms. ${describeError(err)}`;
    } finally {
      more.disabled = false;
    }
  }

  // A room read in another tab or device (or this one) loses its badge here too.
  const unlisten = ctx.dms.listen({
    onRead: (state) => {
      if (state.channel.case !== "roomId") return;
      const title = list.querySelector(`[data-room-id="${CSS.escape(state.channel.value)}"] .room-title`);
      if (title) replaceBadge(title, state);
    },
  });
  // The room list, live: rooms created by anyone appear without a reload.
  const { report, release } = ctx.indicator.reporter("room list");
  let firstLoad = true;
  const watch = client.watchRooms({
    onRoom: placeLive,
    onState: (state) => {
      report(state);
      // The first page once the watch is live (or failed to start: the list then shows what is stored).
      if (state.status !== "connecting" && firstLoad) {
        firstLoad = false;
        void load();
      }
      if (state.status === "closed" && state.reason === "unauthenticated") ctx.onAuthLost();
    },
  });
  more.addEventListener("click", () => void load());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    name.removeAttribute("aria-invalid");
    void busy(form, async () => {
      try {
        const room = await client.createRoom(name.value.trim());
        location.hash = roomHref(room.roomId);
      } catch (err) {
        error.textContent = describeError(err, { taken: "A room with that name already exists." });
        name.setAttribute("aria-invalid", "true");
      }
    }).then(() => {
      if (error.textContent) name.focus();
    });
  });

  return {
    element,
    dispose() {
      disposed = true;
      watch.close();
      release();
      unlisten();
    },
  };
}

function roomItem(room: Room, read: ReadState | undefined): HTMLLIElement {
  return h(
    "li",
    {},
    h(
      "a",
      { href: roomHref(room.roomId), "data-testid": "room-item", "data-room-id": room.roomId },
      h("span", { class: "room-title" }, h("span", { class: "room-name" }, room.name), ...unreadBadge(read)),
      h("span", { class: "muted" }, "created ", timeElement(room.createdAt)),
    ),
  );
}
