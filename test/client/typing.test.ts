/**
 * setTyping / setDirectTyping and onTyping end to end against a real server: another user's typing
 * reaches a room subscription's onTyping (never the typist's own), and a direct-message
 * subscription's for typing to me, without moving the position.
 */
import { createParleyClient, type Typing } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, SUITE_CLIENT, startHarness } from "./support/harness.js";

describe("typing indicators", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  /** A live subscription of `token` (room or direct) recording what onTyping gets. */
  async function watch(token: string, roomId?: string) {
    const client = createParleyClient({ baseUrl: h.proxy.url, transport: "connect", token, ...SUITE_CLIENT });
    const typing: Typing[] = [];
    const messages: string[] = [];
    let live!: () => void;
    const isLive = new Promise<void>((resolve) => (live = resolve));
    const options = {
      onMessage: (m: { messageId: string }) => void messages.push(m.messageId),
      onTyping: (t: Typing) => void typing.push(t),
      onState: (s: { status: string }) => s.status === "live" && live(),
    };
    const sub = roomId === undefined ? client.subscribeDirectMessages(options) : client.subscribeRoom(roomId, options);
    await isLive;
    return { client, sub, typing, messages };
  }

  it("hands another user's typing in the room to onTyping, not the typist's own, and leaves the position", async () => {
    const [alice, bob] = [await h.newUser("typist"), await h.newUser("watcher")];
    const typist = h.direct(alice.token);
    const room = await typist.createRoom(`typing-${Date.now().toString(36)}`);
    const first = await typist.post(room.roomId, "first");
    const [bobs, alices] = [await watch(bob.token, room.roomId), await watch(alice.token, room.roomId)];
    await typist.setTyping(room.roomId);
    await expect.poll(() => bobs.typing.length).toBe(1);
    expect(bobs.typing[0]).toMatchObject({ channel: { case: "roomId", value: room.roomId }, user: { username: alice.username }, stopped: false });
    const until = Number(bobs.typing[0]!.until!.seconds) * 1000;
    expect(until).toBeGreaterThan(Date.now());
    expect(until).toBeLessThanOrEqual(Date.now() + 6_000);
    await typist.setTyping(room.roomId, { stopped: true });
    await expect.poll(() => bobs.typing.length).toBe(2);
    expect(bobs.typing[1]).toMatchObject({ stopped: true });
    expect(bobs.sub.position).toBe(first.messageId);
    // A message after both: the typist's own subscription got it, and never her typing.
    const sent = await typist.post(room.roomId, "typed");
    await expect.poll(() => alices.messages).toEqual([sent.messageId]);
    expect(alices.typing).toEqual([]);
    await expect.poll(() => bobs.sub.position).toBe(sent.messageId);
    for (const w of [bobs, alices]) w.client.close();
  }, 60_000);

  it("hands typing to me in our conversation to my direct-message subscription's onTyping", async () => {
    const [alice, bob] = [await h.newUser("dm_typist"), await h.newUser("dm_watcher")];
    const bobs = await watch(bob.token);
    const bobId = (await h.direct(bob.token).getMe()).userId;
    const position = bobs.sub.position;
    await h.direct(alice.token).setDirectTyping(bobId);
    await expect.poll(() => bobs.typing.length).toBe(1);
    expect(bobs.typing[0]).toMatchObject({ channel: { case: "withUserId" }, user: { username: alice.username }, stopped: false });
    expect(bobs.typing[0]!.channel.value).toBe(bobs.typing[0]!.user!.userId);
    expect(bobs.sub.position).toBe(position);
    bobs.client.close();
  }, 60_000);
});
