/**
 * watchRooms end to end against a real server through a proxy that can cut and refuse: rooms
 * created by another user reach onRoom live; rooms created while the connection is cut and
 * refused arrive after the reconnect (resumed from `position`), none missed; `position` is the
 * newest room id seen.
 */
import { createParleyClient, type Room } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SUITE_CLIENT, startHarness } from "./support/harness.js";

describe("watchRooms", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it("hands every room created to onRoom, live and across a cut connection, and keeps the newest id as its position", async () => {
    const [watcher, creator] = [await h.newUser("room_watcher"), await h.newUser("room_creator")];
    const client = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token: watcher.token, ...SUITE_CLIENT });
    const seen = new Map<string, Room>();
    let live!: () => void;
    const isLive = new Promise<void>((resolve) => (live = resolve));
    const states: string[] = [];
    const sub = client.watchRooms({
      onRoom: (room) => void seen.set(room.roomId, room),
      onState: (s) => {
        states.push(s.status);
        if (s.status === "live") live();
      },
    });
    await isLive;
    const creating = h.direct(creator.token);
    const name = (label: string) => `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const created: Room[] = [await creating.createRoom(name("live"))];
    await expect.poll(() => seen.has(created[0]!.roomId), { timeout: 10_000 }).toBe(true);
    expect(seen.get(created[0]!.roomId)).toEqual(created[0]);
    h.proxy.cut();
    created.push(await creating.createRoom(name("cut")));
    h.proxy.refuse();
    created.push(await creating.createRoom(name("refused")));
    h.proxy.accept();
    created.push(await creating.createRoom(name("after")));
    await expect.poll(() => created.every((r) => seen.has(r.roomId)), { timeout: 20_000 }).toBe(true);
    // The refused room was created while no stream could be open: it came from the resume's replay.
    expect(states.filter((s) => s === "reconnecting").length).toBeGreaterThan(0);
    expect(sub.position).toBe([...seen.keys()].reduce((a, b) => (BigInt(a) > BigInt(b) ? a : b)));
    client.close();
    expect(sub.state).toMatchObject({ status: "closed", reason: "closed" });
  }, 40_000);
});
