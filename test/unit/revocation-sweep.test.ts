/**
 * Revocations reach every node's streams without the bus: the store sweep hands each revocation
 * stored anywhere to the RevocationCache, the one place that ends the token's streams; and a
 * sign-out succeeds once stored, whatever the bus does. A real SQLite store, this process's hub.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RevocationCache } from "../../src/auth/revocations.js";
import { RevocationSweep } from "../../src/auth/revocation-sweep.js";
import type { TokenClaims } from "../../src/auth/tokens.js";
import type { Bus } from "../../src/bus/bus.js";
import { UnauthenticatedError, UnavailableError } from "../../src/domain/errors.js";
import { Hub } from "../../src/realtime/hub.js";
import { StreamSessions } from "../../src/realtime/stream-sessions.js";
import { Accounts, type AccountsDeps } from "../../src/services/accounts.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";

let dir: string;
let store: SqliteStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parley-sweep-"));
  store = new SqliteStore({ file: join(dir, "parley.sqlite"), synchronous: "NORMAL" });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

let tokens = 0;
const claims = (): TokenClaims => ({ userId: "1", username: "ann", tokenId: `tok-${++tokens}-${Date.now()}`, expiresAtMs: Date.now() + 60_000 });

/** A logger that keeps its lines; `logged(prefix)` resolves when a line starting so is written. */
function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const waiting: Array<{ prefix: string; resolve: () => void }> = [];
  const write = (text: string) => {
    const line = JSON.parse(text) as { level: number; msg: string };
    lines.push(line);
    for (const w of waiting.filter((w) => line.msg.startsWith(w.prefix))) w.resolve();
  };
  const logged = (prefix: string) =>
    lines.some((l) => l.msg.startsWith(prefix)) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ prefix, resolve }));
  return { lines, logged, logger: pino({ level: "trace" }, { write }) };
}

/** One node: its hub, its sessions, its revocation cache. */
function node(nodeStore: Pick<Store, "isTokenRevoked"> = store) {
  const hub = new Hub();
  return { hub, sessions: new StreamSessions(hub), revocations: new RevocationCache(nodeStore, hub) };
}

describe("RevocationSweep", () => {
  it("ends this node's streams of a token revoked in the store by another node, and only those", async () => {
    const b = node();
    const sweep = new RevocationSweep(store, b.revocations, { intervalMs: 60_000, logger: capture().logger });
    const revoked = claims();
    const kept = claims();
    const streams = [b.sessions.open(revoked), b.sessions.open(revoked), b.sessions.open(kept)];
    await store.revokeToken(revoked.tokenId, revoked.expiresAtMs);
    expect(await sweep.sweep()).toBeGreaterThanOrEqual(1);
    expect(streams.map((s) => s.signal.reason instanceof UnauthenticatedError)).toEqual([true, true, false]);
    expect(await b.revocations.isRevoked(revoked.tokenId)).toBe(true);
    // A stream opened with the token after the first look (its check raced the revocation) ends at the next.
    const late = b.sessions.open(revoked);
    await sweep.sweep();
    expect(late.signal.reason).toBeInstanceOf(UnauthenticatedError);
    for (const s of [...streams, late]) s.close();
  });

  it("looks by itself every interval once started, and stops", async () => {
    const b = node();
    const sweep = new RevocationSweep(store, b.revocations, { intervalMs: 20, logger: capture().logger });
    const token = claims();
    const stream = b.sessions.open(token);
    sweep.start();
    await store.revokeToken(token.tokenId, token.expiresAtMs);
    await once(stream.signal, "abort");
    expect(stream.signal.reason).toBeInstanceOf(UnauthenticatedError);
    await sweep.stop();
    stream.close();
  });

  it("catches up after the store failed: what was revoked meanwhile still ends its streams; failing logs warn once, never error", async () => {
    const b = node();
    let down = true;
    const flaky: Pick<Store, "listRevocationsSince"> = {
      listRevocationsSince: (since) => (down ? Promise.reject(new UnavailableError("the message store is unavailable")) : store.listRevocationsSince(since)),
    };
    const { lines, logged, logger } = capture();
    const sweep = new RevocationSweep(flaky, b.revocations, { intervalMs: 20, logger });
    const token = claims();
    const stream = b.sessions.open(token);
    sweep.start();
    await store.revokeToken(token.tokenId, token.expiresAtMs);
    // A failed look logs; the stream stays open until a look succeeds.
    await logged("revocation sweep cannot read the store");
    expect(stream.signal.aborted).toBe(false);
    down = false;
    await once(stream.signal, "abort");
    await logged("revocation sweep reads the store again");
    expect(stream.signal.reason).toBeInstanceOf(UnauthenticatedError);
    await sweep.stop();
    expect(lines.filter((l) => l.msg.startsWith("revocation sweep cannot read the store"))).toHaveLength(1);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    stream.close();
  });

  it("finds a revocation stamped by a node whose clock is behind this one's (within the look-back)", async () => {
    const b = node();
    // This node's clock runs 10 s ahead of the store's stamps.
    const sweep = new RevocationSweep(store, b.revocations, { intervalMs: 60_000, logger: capture().logger, now: () => Date.now() + 10_000 });
    await sweep.sweep();
    const token = claims();
    const stream = b.sessions.open(token);
    await store.revokeToken(token.tokenId, token.expiresAtMs);
    await sweep.sweep();
    expect(stream.signal.reason).toBeInstanceOf(UnauthenticatedError);
    stream.close();
  });
});

describe("sign-out", () => {
  function accounts(bus: Pick<Bus, "publish">, revocations: RevocationCache, onRevocationUnpublished?: (error: unknown) => void): Accounts {
    // signOut uses the store, the bus and the revocations only; the other ports are not reached.
    const deps = { store, bus, revocations, onRevocationUnpublished } as unknown as AccountsDeps;
    return new Accounts(deps);
  }

  it("succeeds once stored when the bus refuses the event: this node's streams end at once, the failure is reported", async () => {
    const a = node();
    let reported: (error: unknown) => void = () => undefined;
    const failure = new Promise<unknown>((resolve) => (reported = resolve));
    const refusing = { publish: () => Promise.reject(new UnavailableError("the bus is unavailable")) };
    const caller = claims();
    const stream = a.sessions.open(caller);
    await accounts(refusing, a.revocations, (error) => reported(error)).signOut(caller);
    expect(await store.isTokenRevoked(caller.tokenId)).toBe(true);
    expect(stream.signal.reason).toBeInstanceOf(UnauthenticatedError);
    expect(await failure).toBeInstanceOf(UnavailableError);
    stream.close();
  });

  it("does not wait for a bus that never answers; another node's sweep ends the token's streams there", async () => {
    const a = node();
    const b = node();
    const hanging = { publish: () => new Promise<void>(() => undefined) };
    const caller = claims();
    const onB = b.sessions.open(caller);
    await accounts(hanging, a.revocations).signOut(caller);
    expect(onB.signal.aborted).toBe(false);
    await new RevocationSweep(store, b.revocations, { intervalMs: 60_000, logger: capture().logger }).sweep();
    expect(onB.signal.reason).toBeInstanceOf(UnauthenticatedError);
    onB.close();
  });
});
