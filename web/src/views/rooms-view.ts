import type { ReadState, Room } from "@parley/client/web";
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

  async function load(): Promise<void> {
    more.disabled = true;
    try {
      const res = await client.listRooms({ pageToken: nextPageToken });
      if (disposed) return;
      res.rooms.forEach((room, i) => list.append(roomItem(room, res.readStates[i])));
      nextPageToken = res.nextPageToken;
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
  void load();

  return {
    element,
    dispose() {
      disposed = true;
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
