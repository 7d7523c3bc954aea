/**
 * The faults every transport of the client must survive, each ending with the checker: the app
 * saw every message of the room after its starting position once, in the server's order.
 */
import { expect } from "vitest";
import { check, storedMessages } from "./checker.js";
import type { Harness } from "./harness.js";
import { startPoster } from "./poster.js";
import type { SubscriberApp } from "./subscriber-app.js";

/** Makes the app under test, connected through the harness's proxy with `token`. */
export type AppFactory = (token: string) => Promise<SubscriberApp>;

/** What a scenario did, for the log. */
export interface Summary {
  readonly delivered: number;
  readonly acked: number;
  readonly reasons: string[];
}

/** A room with a poster (straight to the server) and the app subscribed through the proxy. */
async function setUp(h: Harness, makeApp: AppFactory, name: string, options: { gate?: boolean } = {}) {
  const owner = await h.newUser(`${name}_poster`);
  const subscriber = await h.newUser(`${name}_reader`);
  const posting = h.direct(owner.token);
  const room = await posting.createRoom(`${name} ${Date.now()}`);
  const app = await makeApp(subscriber.token);
  await app.subscribe(room.roomId, options);
  await app.until({ state: "live" });
  const from = await app.position();
  return { posting, roomId: room.roomId, app, from, subscriber };
}

/** Runs the checker against the server's store, and closes the app. */
async function verify(h: Harness, app: SubscriberApp, roomId: string, acked: readonly string[], from: string): Promise<Summary> {
  await app.until({ seen: acked });
  const seen = await app.seen();
  const stored = (await storedMessages(h.direct((await h.newUser("checker")).token), roomId)).map((m) => m.messageId);
  const problems = check({ seen, acked, stored, from });
  const states = await app.states();
  await app.close();
  expect(problems).toEqual([]);
  expect(seen.length).toBeGreaterThanOrEqual(acked.length);
  return { delivered: seen.length, acked: acked.length, reasons: [...new Set(states.flatMap((s) => (s.reason ? [s.reason] : [])))] };
}

/** The proxy cuts every connection six times and refuses new ones for a while, as posts go on. */
export async function cutsAndRefusals(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "cuts");
  const poster = startPoster(posting, roomId, 300, { pauseMs: 3 });
  for (let i = 1; i <= 6; i++) {
    await poster.untilAcked(40 * i);
    if (i === 4) {
      h.proxy.refuse();
      await poster.untilAcked(40 * i + 30);
      h.proxy.accept();
    } else {
      h.proxy.cut();
    }
  }
  await poster.done;
  const summary = await verify(h, app, roomId, poster.acked, from);
  expect(summary.reasons).toContain("network");
  return summary;
}

/** The server stops (SIGTERM) and later dies (SIGKILL) mid-stream; each time it comes back on its port. */
export async function serverRestarts(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "restarts");
  const poster = startPoster(posting, roomId, 200, { pauseMs: 3 });
  await poster.untilAcked(50);
  let mark = (await app.states()).length;
  await h.restart("SIGTERM");
  await app.until({ state: "live", from: mark });
  await poster.untilAcked(120);
  mark = (await app.states()).length;
  await h.restart("SIGKILL");
  await app.until({ state: "live", from: mark });
  await poster.done;
  return verify(h, app, roomId, poster.acked, from);
}

/** The app is cut off while more than REPLAY_LIMIT messages are posted: the resume's gap is paged in order. */
export async function gapFilled(h: Harness, makeApp: AppFactory, replayLimit: number): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "gap");
  const warmup = startPoster(posting, roomId, 10, { label: "before" });
  await warmup.done;
  await app.until({ seen: warmup.acked });
  h.proxy.refuse();
  const poster = startPoster(posting, roomId, replayLimit * 4 + 7, { label: "cut off" });
  await poster.done;
  h.proxy.accept();
  await app.until({ seen: poster.acked });
  // The resume fell more than REPLAY_LIMIT behind: the server said so, and the client paged it.
  expect((await app.gaps()).length).toBeGreaterThan(0);
  return verify(h, app, roomId, [...warmup.acked, ...poster.acked], from);
}

/** A token signed out mid-stream: the app is told (no reconnects), signs in again and resumes. */
export async function tokenRevoked(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from, subscriber } = await setUp(h, makeApp, "revoked");
  const poster = startPoster(posting, roomId, 60, { pauseMs: 5 });
  await poster.untilAcked(15);
  const mark = (await app.states()).length;
  await h.direct(subscriber.token).signOut();
  await app.until({ state: "closed", reason: "unauthenticated", from: mark });
  await poster.done;
  // Closed means closed: nothing reconnects on its own with a revoked token.
  expect((await app.states()).slice(mark).map((s) => s.status)).toEqual(["closed"]);
  const fresh = h.direct();
  const { accessToken } = await fresh.signIn(subscriber.username, "correct horse battery");
  await app.setToken(accessToken);
  await app.resume();
  return verify(h, app, roomId, poster.acked, from);
}

/** The connection goes silent (nothing arrives, nothing closes): found dead after two heartbeats. */
export async function deadConnection(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "stall");
  const before = startPoster(posting, roomId, 5, { label: "before" });
  await before.done;
  await app.until({ seen: before.acked });
  const mark = (await app.states()).length;
  h.proxy.stall();
  const during = startPoster(posting, roomId, 20, { label: "during" });
  await app.until({ state: "reconnecting", reason: "dead-connection", from: mark });
  await app.until({ state: "live", from: mark });
  await during.done;
  return verify(h, app, roomId, [...before.acked, ...during.acked], from);
}

/** The app reads too slowly: the server ends its stream (RESOURCE_EXHAUSTED); it resumes and loses nothing. */
export async function slowConsumer(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "slow", { gate: true });
  const openRpcStreams = (): Promise<number> => h.metric(/^parley_open_streams\{transport="rpc"\} (\d+)/m);
  expect(await openRpcStreams()).toBe(1);
  const text = "😀".repeat(4000);
  const acked: string[] = [];
  for (let batch = 0; batch < 80 && (await openRpcStreams()) > 0; batch++) {
    const sent = await Promise.all(Array.from({ length: 20 }, () => posting.post(roomId, text, { maxAttempts: Infinity })));
    acked.push(...sent.map((m) => m.messageId));
  }
  expect(await openRpcStreams()).toBe(0);
  const mark = (await app.states()).length;
  await app.release();
  await app.until({ state: "reconnecting", reason: "slow-consumer", from: mark });
  return verify(h, app, roomId, acked, from);
}

/** Reconnects refused by the per-user rate limit: the client waits the server's Retry-After. */
export async function rateLimited(h: Harness, makeApp: AppFactory): Promise<Summary> {
  const { posting, roomId, app, from } = await setUp(h, makeApp, "limited");
  const poster = startPoster(posting, roomId, 8, { pauseMs: 50 });
  let limited = false;
  for (let cut = 0; cut < 10 && !limited; cut++) {
    const mark = (await app.states()).length;
    h.proxy.cut();
    await app.until({ state: "live", from: mark });
    const states = (await app.states()).slice(mark);
    const refusal = states.find((s) => s.reason === "rate-limited");
    if (refusal) {
      limited = true;
      // Retry-After is whole seconds (at least 1): the client waited at least that long.
      expect(refusal.retryInMs).toBeGreaterThanOrEqual(1_000);
    }
  }
  expect(limited).toBe(true);
  await poster.done;
  return verify(h, app, roomId, poster.acked, from);
}
