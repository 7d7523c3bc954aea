/**
 * getRoomPresence and onPresence end to end against a real server: a room subscription with
 * onPresence asks for presence frames — a snapshot after each connect, then who joined and left —
 * and they never move the position; a subscription without it still makes its user present.
 */
import { createParleyClient, type Presence } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SUITE_CLIENT, startHarness } from "./support/harness.js";

describe("presence", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it("hands the snapshot and others' joins and leaves to onPresence, leaves the position, and getRoomPresence agrees", async () => {
    const [alice, bob] = [await h.newUser("present"), await h.newUser("visitor")];
    const owner = h.direct(alice.token);
    const room = await owner.createRoom(`presence-${Date.now().toString(36)}`);
    const first = await owner.post(room.roomId, "first");
    const client = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token: alice.token, ...SUITE_CLIENT });
    const seen: Presence[] = [];
    const sub = client.subscribeRoom(room.roomId, { since: first.messageId, onMessage: () => undefined, onPresence: (p) => void seen.push(p) });
    // Her own stream makes her present one server batch (about a second) later.
    await expect.poll(() => seen.some((p) => p.count === 1), { timeout: 10_000 }).toBe(true);
    expect(seen[0]).toMatchObject({ roomId: room.roomId, snapshot: true });

    // Bob opens the room without asking for presence: he counts all the same.
    const bobs = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token: bob.token, ...SUITE_CLIENT });
    const bobSub = bobs.subscribeRoom(room.roomId, { onMessage: () => undefined });
    await expect.poll(() => seen.some((p) => p.joined.some((u) => u.username === bob.username)), { timeout: 10_000 }).toBe(true);
    expect(seen.at(-1)).toMatchObject({ count: 2, snapshot: false, truncated: false, left: [] });
    const listed = await client.getRoomPresence(room.roomId);
    expect(listed.count).toBe(2);
    expect(listed.users.map((u) => u.username).sort()).toEqual([alice.username, bob.username].sort());

    bobSub.close();
    await expect.poll(() => seen.some((p) => p.left.some((u) => u.username === bob.username)), { timeout: 10_000 }).toBe(true);
    expect(seen.at(-1)).toMatchObject({ count: 1, joined: [] });
    expect(sub.position).toBe(first.messageId);
    client.close();
    bobs.close();
  }, 60_000);
});
