import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createParleyClient, type ParleyClient } from "@parley/client/node";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../support/server.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const shots = join(repo, "test-results");
const chromiumPath = "/usr/bin/chromium";
const password = "correct horse battery";

type Server = Awaited<ReturnType<typeof startServer>>;

/** Builds web/ into web/dist unless the build is newer than every source it comes from. */
async function buildWebIfStale(): Promise<void> {
  const out = join(repo, "web/dist/index.html");
  const sources = ["web/index.html", "web/vite.config.ts", "web/src", "client/src", "gen/chat"].map((p) => join(repo, p));
  if (existsSync(out) && newestMtime(sources) < statSync(out).mtimeMs) return;
  await build({ root: join(repo, "web"), logLevel: "warn" });
}

function newestMtime(paths: string[]): number {
  return Math.max(
    ...paths.map((p) => {
      const s = statSync(p);
      if (!s.isDirectory()) return s.mtimeMs;
      return newestMtime(readdirSync(p).map((name) => join(p, name)));
    }),
  );
}

/** A Node client for seeding data as `username`, signing up on first use. */
/**
 * A user seeding data through @parley/client, as a real program would: its sends honour the
 * server's Retry-After, so 120 posts in a row meet the default per-user rate limit and wait.
 */
async function apiAs(baseUrl: string, username: string): Promise<ParleyClient> {
  const client = createParleyClient({ baseUrl, httpVersion: "1.1" });
  try {
    await client.signUp(username, password);
  } catch (err) {
    if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
  }
  await client.signIn(username, password);
  return client;
}

/** A fresh browser context whose page fails the test on any dialog (alert), uncaught error or CSP violation. */
async function openPage(browser: Browser, problems: string[], viewport = { width: 1100, height: 800 }): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport, locale: "en-GB" });
  const page = await context.newPage();
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return page;
}

async function signUp(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId("login-username").fill(username);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("sign-up").click();
  await page.getByTestId("me").filter({ hasText: username }).waitFor();
}

async function connState(page: Page, state: "connected" | "reconnecting", timeout = 20_000): Promise<void> {
  await page.waitForSelector(`[data-testid="conn-state"][data-state="${state}"]`, { timeout });
}

/** Waits until a message whose text is exactly `text` is on screen. */
async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (t) => Array.from(document.querySelectorAll('[data-testid="message-text"]')).some((e) => e.textContent === t),
    text,
  );
}

/** Texts and ids of the messages on screen, top to bottom. */
async function shown(page: Page): Promise<{ ids: string[]; texts: string[] }> {
  return page.$$eval('[data-testid="message"]', (items) => ({
    ids: items.map((i) => i.getAttribute("data-message-id") ?? ""),
    texts: items.map((i) => i.querySelector('[data-testid="message-text"]')?.textContent ?? ""),
  }));
}

/** Every id once, in increasing 64-bit order. */
function expectUniqueAscending(ids: string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  expect(ids).toEqual(sorted);
}

describe("the chat page in Chromium against the real server", () => {
  let server: Server;
  let browser: Browser;
  const problems: string[] = [];
  const suffix = Math.random().toString(36).slice(2, 8);
  const alice = `alice_${suffix}`;
  const bob = `bob_${suffix}`;

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`${chromiumPath} is missing: apt-get update && apt-get install -y chromium`);
    }
    mkdirSync(shots, { recursive: true });
    await buildWebIfStale();
    server = await startServer();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  }, 30_000);

  it("two users chat live in a room and by direct message, across a server restart", async () => {
    const a = await openPage(browser, problems);
    const b = await openPage(browser, problems);
    const room = `Lobby ${suffix}`;

    await a.goto(server.url);
    await a.getByTestId("login-form").waitFor();
    await a.screenshot({ path: join(shots, "web-01-sign-in.png") });
    await signUp(a, server.url, alice);

    // A creates a room; creating it again (other case) is refused inline.
    await a.getByTestId("room-name").fill(room);
    await a.getByTestId("create-room").click();
    await a.getByTestId("room-title").filter({ hasText: room }).waitFor();
    await a.getByTestId("nav-rooms").click();
    await a.getByTestId("room-name").fill(room.toUpperCase());
    await a.getByTestId("create-room").click();
    await a.getByTestId("room-error").filter({ hasText: "already exists" }).waitFor();
    await a.screenshot({ path: join(shots, "web-02-rooms.png") });
    await a.getByTestId("room-item").filter({ hasText: room }).click();
    await a.getByTestId("room-title").filter({ hasText: room }).waitFor();

    // B signs up and opens the room from the list.
    await signUp(b, server.url, bob);
    await b.getByTestId("room-item").filter({ hasText: room }).click();
    await b.getByTestId("room-title").filter({ hasText: room }).waitFor();
    await connState(a, "connected");
    await connState(b, "connected");

    // A posts (Enter sends); B sees it live. Markup is shown as text, never parsed.
    const hello = "Hello from A";
    const markup = "<img src=x onerror=alert(1)>";
    for (const text of [hello, markup]) {
      await a.getByTestId("composer-input").fill(text);
      await a.getByTestId("composer-input").press("Enter");
      await waitForMessage(b, text);
    }
    for (const page of [a, b]) {
      expect(await page.locator('[data-testid="message-list"] img').count()).toBe(0);
      expect(await page.getByTestId("message-list").textContent()).toContain(markup);
    }
    await b.screenshot({ path: join(shots, "web-03-room.png") });

    // B writes to A by username; A's inbox updates live; they talk in the conversation view.
    await a.getByTestId("nav-dm").click();
    await a.getByTestId("dm-inbox").waitFor({ state: "attached" });
    await b.getByTestId("nav-dm").click();
    await b.getByTestId("dm-recipient").fill(alice);
    await b.getByTestId("dm-text").fill("Hi A, it's B");
    await b.getByTestId("dm-send").click();
    await b.getByTestId("dm-title").filter({ hasText: alice }).waitFor();
    await waitForMessage(b, "Hi A, it's B");
    const thread = a.getByTestId("dm-thread").filter({ hasText: bob });
    await thread.filter({ hasText: "Hi A, it's B" }).waitFor();
    await a.screenshot({ path: join(shots, "web-04-dm-inbox.png") });
    await thread.click();
    await a.getByTestId("dm-title").filter({ hasText: bob }).waitFor();
    await waitForMessage(a, "Hi A, it's B");
    await a.getByTestId("composer-input").fill("Hi B!");
    await a.getByTestId("composer-input").press("Enter");
    await waitForMessage(b, "Hi B!");
    await b.screenshot({ path: join(shots, "web-05-dm-conversation.png") });

    // Back to the room, then restart the server under both pages.
    for (const page of [a, b]) {
      await page.getByTestId("nav-rooms").click();
      await page.getByTestId("room-item").filter({ hasText: room }).click();
      await waitForMessage(page, markup);
      await connState(page, "connected");
    }
    const roomId = await roomIdOf(a);
    const { dataDir, port } = server;
    await server.stop();
    await connState(a, "reconnecting");
    await connState(b, "reconnecting");
    await b.screenshot({ path: join(shots, "web-06-reconnecting.png") });
    server = await startServer({ dataDir, port });

    // Posted while the pages are still backing off: the resumed streams replay it.
    const seeded = await apiAs(server.url, alice);
    await seeded.post(roomId, "Sent during the restart");
    await connState(a, "connected");
    await connState(b, "connected");
    await a.getByTestId("composer-input").fill("After the restart");
    await a.getByTestId("composer-input").press("Enter");
    for (const page of [a, b]) {
      await waitForMessage(page, "Sent during the restart");
      await waitForMessage(page, "After the restart");
    }
    await a.waitForTimeout(500); // let any duplicate arrive before counting
    for (const page of [a, b]) {
      const { ids, texts } = await shown(page);
      expectUniqueAscending(ids);
      expect(texts).toEqual([hello, markup, "Sent during the restart", "After the restart"]);
    }
    await a.screenshot({ path: join(shots, "web-07-after-restart.png") });
    expect(problems).toEqual([]);
  }, 180_000);

  it("loads older pages on scrolling up, works by keyboard, and fits a phone", async () => {
    const carol = `carol_${suffix}`;
    const seeded = await apiAs(server.url, carol);
    const { roomId } = await seeded.createRoom(`History ${suffix}`);
    for (let i = 0; i < 120; i++) await seeded.post(roomId, `message ${i}`);

    const page = await openPage(browser, problems, { width: 390, height: 844 });
    await page.goto(server.url);
    // Keyboard only: the heading has focus, Tab to each field, Enter signs in.
    await page.getByTestId("login-form").waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.type(carol);
    await page.keyboard.press("Tab");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await page.getByTestId("me").filter({ hasText: carol }).waitFor();

    await page.goto(`${server.url}/#/rooms/${roomId}`);
    await waitForMessage(page, "message 119");
    expect((await shown(page)).texts).toHaveLength(50);
    await page.screenshot({ path: join(shots, "web-08-phone-room.png") });

    for (const expected of [100, 120]) {
      await page.getByTestId("message-list").evaluate((list) => list.parentElement!.scrollTo({ top: 0 }));
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length === n, expected);
    }
    await page.getByTestId("history-start").waitFor();
    const { ids, texts } = await shown(page);
    expectUniqueAscending(ids);
    expect(texts).toEqual(Array.from({ length: 120 }, (_, i) => `message ${i}`));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    // Signing out forgets the token and returns to the sign-in form.
    await page.getByTestId("sign-out").click();
    await page.getByTestId("login-form").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("parley.accessToken"))).toBeNull();
    expect(problems).toEqual([]);
  }, 120_000);

  it("shows my unread counts on rooms and conversations, and clears them once I have read them", async () => {
    const dave = `dave_${suffix}`;
    const erin = await apiAs(server.url, `erin_${suffix}`);
    const { roomId } = await erin.createRoom(`Unread ${suffix}`);
    for (const text of ["u1", "u2", "u3"]) await erin.post(roomId, text);

    const page = await openPage(browser, problems);
    await signUp(page, server.url, dave);
    const badge = page.locator(`[data-testid="room-item"][data-room-id="${roomId}"] [data-testid="unread-badge"]`);
    await page.goto(`${server.url}/#/rooms`);
    await badge.waitFor();
    expect(await badge.textContent()).toBe("3");
    expect(await badge.getAttribute("aria-label")).toBe("3 unread");

    // Opening the room reads it: the page marks its newest message read.
    const marked = page.waitForResponse((r) => r.url().endsWith("/chat.v1.MessageService/MarkRoomRead") && r.ok());
    await page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).click();
    await waitForMessage(page, "u3");
    expect(await (await marked).json()).toMatchObject({ readState: { roomId, lastReadMessageId: (await shown(page)).ids.at(-1) } });
    // A message that arrives while the room is open is read too.
    const markedLive = page.waitForResponse((r) => r.url().endsWith("/chat.v1.MessageService/MarkRoomRead") && r.ok());
    const live = await erin.post(roomId, "u4");
    await waitForMessage(page, "u4");
    expect(await (await markedLive).json()).toMatchObject({ readState: { roomId, lastReadMessageId: live.messageId } });

    await page.getByTestId("nav-rooms").click();
    await page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).waitFor();
    expect(await badge.count()).toBe(0);
    // Posted while I am elsewhere: unread again, counted from my marker.
    await erin.post(roomId, "u5");
    await page.reload();
    await badge.waitFor();
    expect(await badge.textContent()).toBe("1");
    await page.screenshot({ path: join(shots, "web-09-unread-badges.png") });

    // Direct messages: the inbox counts each conversation's unread messages, live ones too.
    for (const text of ["d1", "d2"]) await erin.sendDirect({ username: dave }, text);
    const thread = page.locator(`[data-testid="dm-thread"]`).filter({ hasText: `erin_${suffix}` });
    const threadBadge = thread.getByTestId("unread-badge");
    await page.getByTestId("nav-dm").click();
    await threadBadge.waitFor();
    expect(await threadBadge.textContent()).toBe("2");
    await erin.sendDirect({ username: dave }, "d3");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="dm-thread"] [data-testid="unread-badge"]')?.textContent === "3",
    );
    const markedDm = page.waitForResponse((r) => r.url().endsWith("/chat.v1.MessageService/MarkDirectMessagesRead") && r.ok());
    await thread.click();
    await waitForMessage(page, "d3");
    expect(await (await markedDm).json()).toMatchObject({ readState: { lastReadMessageId: (await shown(page)).ids.at(-1) } });
    await page.getByTestId("nav-dm").click();
    await thread.waitFor();
    expect(await threadBadge.count()).toBe(0);

    // Read elsewhere: dave's second tab (a browser context of its own) reads the room; the first
    // tab's badge clears without a reload, from the read frame on its direct-message stream.
    await erin.post(roomId, "u6");
    await page.getByTestId("nav-rooms").click();
    await badge.waitFor();
    expect(await badge.textContent()).toBe("2");
    const other = await openPage(browser, problems);
    await other.goto(server.url);
    await other.getByTestId("login-username").fill(dave);
    await other.getByTestId("login-password").fill(password);
    await other.getByTestId("sign-in").click();
    await other.getByTestId("me").filter({ hasText: dave }).waitFor();
    await other.goto(`${server.url}/#/rooms/${roomId}`);
    await waitForMessage(other, "u6");
    await badge.waitFor({ state: "detached" });
    await other.close();
    expect(problems).toEqual([]);
    erin.close();
  }, 120_000);

  it("shows who is typing in a room and in a conversation, and tells others as I type", async () => {
    const [frank, gina] = [`frank_${suffix}`, `gina_${suffix}`];
    const other = await apiAs(server.url, frank);
    const { roomId } = await other.createRoom(`Typing ${suffix}`);
    const page = await openPage(browser, problems);
    await signUp(page, server.url, gina);
    await page.goto(`${server.url}/#/rooms/${roomId}`);
    await page.getByTestId("room-title").filter({ hasText: `Typing ${suffix}` }).waitFor();
    await connState(page, "connected");
    const line = page.getByTestId("typing");

    // Someone else types: the line names them until their message arrives.
    await other.setTyping(roomId);
    await line.filter({ hasText: `${frank} is typing…` }).waitFor();
    await page.screenshot({ path: join(shots, "web-10-typing.png") });
    await other.post(roomId, "typed it");
    await waitForMessage(page, "typed it");
    expect(await line.textContent()).toBe("");

    // I type: frank's subscription hears it (and a stop once I empty the box).
    const heard: Array<{ name: string; stopped: boolean }> = [];
    const sub = other.subscribeRoom(roomId, { onMessage: () => undefined, onTyping: (t) => void heard.push({ name: t.user?.username ?? "", stopped: t.stopped }) });
    await expect.poll(() => sub.state.status).toBe("live");
    await page.getByTestId("composer-input").fill("hel");
    await expect.poll(() => heard).toEqual([{ name: gina, stopped: false }]);
    await page.getByTestId("composer-input").fill("");
    await expect.poll(() => heard).toEqual([{ name: gina, stopped: false }, { name: gina, stopped: true }]);
    sub.close();

    // In a conversation: frank typing to me shows there.
    const dm = await other.sendDirect({ username: gina }, "hello gina");
    await page.goto(`${server.url}/#/dm/${dm.sender!.userId}`);
    await waitForMessage(page, "hello gina");
    const ginaId = dm.target.case === "recipientUserId" ? dm.target.value : "";
    await other.setDirectTyping(ginaId);
    await line.filter({ hasText: `${frank} is typing…` }).waitFor();
    await other.setDirectTyping(ginaId, { stopped: true });
    await page.waitForFunction(() => document.querySelector('[data-testid="typing"]')?.textContent === "");

    // In my inbox: frank's conversation says "typing…" in place of his latest message while he types.
    await page.goto(`${server.url}/#/dm`);
    const snippet = page.getByTestId("dm-thread").filter({ hasText: frank }).getByTestId("dm-snippet");
    await snippet.filter({ hasText: "hello gina" }).waitFor();
    await other.setDirectTyping(ginaId);
    await snippet.filter({ hasText: /^typing…$/ }).waitFor();
    await other.setDirectTyping(ginaId, { stopped: true });
    await snippet.filter({ hasText: "hello gina" }).waitFor();
    expect(problems).toEqual([]);
    other.close();
  }, 120_000);

  it("shows who has the room open: me, then someone who opens it too, until they leave", async () => {
    const [hana, ivan] = [`hana_${suffix}`, `ivan_${suffix}`];
    const other = await apiAs(server.url, ivan);
    const { roomId } = await other.createRoom(`Presence ${suffix}`);
    const page = await openPage(browser, problems);
    await signUp(page, server.url, hana);
    await page.goto(`${server.url}/#/rooms/${roomId}`);
    await page.getByTestId("room-title").filter({ hasText: `Presence ${suffix}` }).waitFor();
    const line = page.getByTestId("presence");
    // My own stream makes me present one server batch later.
    await line.filter({ hasText: /^1 here: you$/ }).waitFor();
    const sub = other.subscribeRoom(roomId, { onMessage: () => undefined });
    await line.filter({ hasText: new RegExp(`^2 here: ${ivan}, you$`) }).waitFor();
    await page.screenshot({ path: join(shots, "web-11-presence.png") });
    sub.close();
    await line.filter({ hasText: /^1 here: you$/ }).waitFor();
    expect(problems).toEqual([]);
    other.close();
  }, 120_000);

  it("keeps the room list live: a room another user creates appears without a reload, once, in id order", async () => {
    const [helen, ivan] = [`lena_${suffix}`, `milo_${suffix}`];
    const a = await openPage(browser, problems);
    const b = await openPage(browser, problems);
    await signUp(a, server.url, helen);
    await signUp(b, server.url, ivan);
    await a.goto(`${server.url}/#/rooms`);
    await a.getByTestId("create-room-form").waitFor();
    await connState(a, "connected");
    const listed = () => a.$$eval('[data-testid="room-item"]', (items) => items.map((i) => i.getAttribute("data-room-id") ?? ""));
    const before = await listed();

    // Tab B (ivan) creates a room with the form; tab A shows it, with no reload.
    await b.goto(`${server.url}/#/rooms`);
    await b.getByTestId("room-name").fill(`Live list ${suffix}`);
    await b.getByTestId("create-room").click();
    await b.getByTestId("room-title").filter({ hasText: `Live list ${suffix}` }).waitFor();
    const created = await roomIdOf(b);
    await a.locator(`[data-room-id="${created}"]`).filter({ hasText: `Live list ${suffix}` }).waitFor();
    // One from a program too.
    const other = await apiAs(server.url, ivan);
    const { roomId } = await other.createRoom(`Live list too ${suffix}`);
    await a.locator(`[data-room-id="${roomId}"]`).waitFor();
    const after = await listed();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toEqual(expect.arrayContaining([created, roomId]));
    expectUniqueAscending(after);
    await a.screenshot({ path: join(shots, "web-11-live-room-list.png") });
    expect(problems).toEqual([]);
    other.close();
  }, 120_000);
});

/** The id of the room shown on `page`, from its address. */
async function roomIdOf(page: Page): Promise<string> {
  const id = new URL(page.url()).hash.split("/")[2];
  if (!id) throw new Error(`not on a room page: ${page.url()}`);
  return id;
}
