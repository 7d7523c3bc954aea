/**
 * The contract every Bus adapter keeps (see src/bus/bus.ts), as one vitest suite. `makeBuses(n)`
 * returns n buses that share one bus — n nodes of one deployment; the memory adapter can only
 * play one node, Kafka plays two. Every test uses fresh channel ids, so events of other tests
 * (or other runs sharing the broker) are ignored.
 *
 *   - every event published on any bus reaches every started listener exactly once;
 *   - per-channel order: rapid, interleaved publishes to two rooms (and two inboxes) arrive in
 *     publish order per channel;
 *   - an event published right after start() resolved is delivered (no start-up race);
 *   - after close() a bus delivers nothing more.
 * No waiting for time to pass: "nothing more arrived" is shown by a sentinel published after
 * the events on the same channel — a listener that has it has everything before it.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus, BusEvent } from "../../src/bus/bus.js";
import type { Channel } from "../../src/domain/model.js";

export interface BusFixture {
  readonly buses: Bus[];
  cleanup(): Promise<void>;
}

export interface BusContractOptions {
  /** How many nodes the adapter can play (default 1). */
  readonly nodes?: number;
  /** Longest to wait for a delivery (default 20 s). */
  readonly deliveryTimeoutMs?: number;
}

/** Sentinel revocations expire at SENTINEL_EXPIRY + a number naming the round and the bus; real ones later. */
const SENTINEL_EXPIRY = 1_800_000_000_000;
const isSentinel = (e: BusEvent): boolean =>
  e.type === "message"
    ? e.message.text.startsWith("sentinel ")
    : e.type === "token_revoked" && e.expiresAtMs >= SENTINEL_EXPIRY && e.expiresAtMs < SENTINEL_EXPIRY + 1_000_000_000;
/** One sentinel: the text of a message, the expiry of a revocation. */
const sentinelOf = (round: number, from: number) => ({ text: `sentinel ${round} ${from}`, expiresAtMs: SENTINEL_EXPIRY + round * 1000 + from });
let sentinelRounds = 0;

/** A started listener's record of what it received; wakes waiters on each event. */
class Received {
  readonly events: BusEvent[] = [];
  readonly #waiters = new Set<() => void>();
  push(event: BusEvent): void {
    this.events.push(event);
    for (const wake of [...this.#waiters]) wake();
  }
  /** Calls `wake` after each event until the returned function is called. */
  watch(wake: () => void): () => void {
    this.#waiters.add(wake);
    return () => this.#waiters.delete(wake);
  }
  /** Message texts (or token ids, or the user ids of read states and typists) of one channel, in arrival order, sentinels left out. */
  of(tag: string): string[] {
    return this.events.flatMap((e) => {
      if (isSentinel(e)) return [];
      if (e.type === "message") return channelTag(e.message.channel) === tag ? [e.message.text] : [];
      if (e.type === "read") return e.userId.startsWith(tag) ? [e.userId] : [];
      if (e.type === "typing") return e.typing.typistId.startsWith(tag) ? [e.typing.typistId] : [];
      if (e.type === "room_created") return e.room.name.startsWith(tag) ? [e.room.name] : [];
      if (e.type === "presence") return e.report.origin.startsWith(tag) ? [e.report.origin] : [];
      return e.tokenId.startsWith(tag) ? [e.tokenId] : [];
    });
  }
  /** Whether the sentinel of `round` that bus `from` published on `on` (a channel, or a token id) has arrived. */
  hasSentinel(round: number, from: number, on: Channel | string): boolean {
    const { text, expiresAtMs } = sentinelOf(round, from);
    return this.events.some((e) =>
      typeof on === "string"
        ? e.type === "token_revoked" && e.tokenId === on && e.expiresAtMs === expiresAtMs
        : e.type === "message" && channelTag(e.message.channel) === channelTag(on) && e.message.text === text,
    );
  }
}

let sequence = 0;
const unique = (): string => `${Date.now()}${randomBytes(3).readUIntBE(0, 3)}${sequence++}`;
const channelTag = (c: Channel): string => `${c.kind}:${c.id}`;

function message(channel: Channel, text: string): BusEvent {
  const id = unique();
  return {
    type: "message",
    message: { id, channel, senderId: "1", senderName: "alice", text, createdAtMs: Date.now(), clientMessageId: `c${id}` },
  };
}

export function busContract(name: string, makeBuses: (n: number) => Promise<BusFixture>, options: BusContractOptions = {}): void {
  const nodes = options.nodes ?? 1;
  const timeoutMs = options.deliveryTimeoutMs ?? 20_000;
  const fixtures: BusFixture[] = [];

  async function started(): Promise<{ buses: Bus[]; received: Received[] }> {
    const fixture = await makeBuses(nodes);
    fixtures.push(fixture);
    const received = fixture.buses.map(() => new Received());
    await Promise.all(fixture.buses.map((bus, i) => bus.start((event) => received[i]!.push(event))));
    return { buses: fixture.buses, received };
  }

  /** Resolves once `done()` holds, checked on every event any listener receives; fails at the deadline. */
  function waitUntil(received: Received[], done: () => boolean, progress: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const unwatch: Array<() => void> = [];
      const finish = (error?: Error) => {
        clearTimeout(deadline);
        for (const stop of unwatch) stop();
        if (error) reject(error);
        else resolve();
      };
      const deadline = setTimeout(() => finish(new Error(`not delivered within ${timeoutMs} ms: ${progress()}`)), timeoutMs);
      const check = () => {
        if (done()) finish();
      };
      for (const r of received) unwatch.push(r.watch(check));
      check();
    });
  }

  /**
   * Publishes a sentinel from every bus on each channel (a revocation of the same token id: the
   * same partition key) and waits until every listener has them all. Events of one channel
   * arrive in publish order, so a listener that has a bus's sentinel has everything that bus
   * published on that channel before it — duplicates included, if there were any.
   */
  async function afterSentinels(buses: Bus[], received: Received[], on: Array<Channel | string>): Promise<void> {
    const round = sentinelRounds++;
    await Promise.all(
      buses.flatMap((bus, i) => {
        const { text, expiresAtMs } = sentinelOf(round, i);
        return on.map((c) => bus.publish(typeof c === "string" ? { type: "token_revoked", tokenId: c, expiresAtMs } : message(c, text)));
      }),
    );
    const missing = () =>
      received.flatMap((r, node) =>
        buses.flatMap((_, i) => on.filter((c) => !r.hasSentinel(round, i, c)).map((c) => `node ${node} lacks bus ${i}'s sentinel on ${typeof c === "string" ? c : channelTag(c)}`)),
      );
    await waitUntil(received, () => missing().length === 0, () => missing().join("; "));
  }

  describe(`bus contract: ${name} (${nodes} node${nodes === 1 ? "" : "s"})`, () => {
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
    });

    it("delivers every event published on any node to every listener exactly once", async () => {
      expect.assertions(11 * nodes);
      const { buses, received } = await started();
      const room = { kind: "room", id: unique() } as const;
      const inbox = { kind: "user", id: unique() } as const;
      const tokenTag = `tok${unique()}-`;
      const readerTag = `reader${unique()}-`;
      const readState = { channel: { kind: "direct", withUserId: "5" }, lastReadMessageId: "42", unreadCount: 3, moreUnread: true } as const;
      const typistTag = `typist${unique()}-`;
      const typing = (i: number) => ({ channel: room, typistId: `${typistTag}${i}`, typistName: "zoë", untilMs: 1_900_000_006_000, stopped: false });
      const roomTag = `lobby${unique()}-`;
      const created = (i: number) => ({ id: `${7_000_000_000 + i}`, name: `${roomTag}${i}`, createdBy: "1", createdAtMs: 1_900_000_000_000 + i });
      await Promise.all(
        buses.flatMap((bus, i) => [
          bus.publish(message(room, `room from ${i}`)),
          bus.publish(message(inbox, `dm from ${i}`)),
          bus.publish({ type: "token_revoked", tokenId: `${tokenTag}${i}`, expiresAtMs: 1_900_000_000_000 }),
          bus.publish({ type: "read", userId: `${readerTag}${i}`, state: readState }),
          bus.publish({ type: "typing", typing: typing(i) }),
          bus.publish({ type: "room_created", room: created(i) }),
        ]),
      );
      await afterSentinels(buses, received, [room, inbox, ...buses.map((_, i) => `${tokenTag}${i}`)]);
      // Read states travel keyed by user, apart from the sentinels' keys: waited for on their own.
      // So does typing (keyed by channel on the control topic), and rooms created (keyed "rooms").
      const readsMissing = () =>
        received.flatMap((r, node) =>
          r.of(readerTag).length < buses.length || r.of(typistTag).length < buses.length || r.of(roomTag).length < buses.length
            ? [`node ${node} has ${r.of(readerTag).length} read states, ${r.of(typistTag).length} typing, ${r.of(roomTag).length} rooms created`]
            : [],
        );
      await waitUntil(received, () => readsMissing().length === 0, () => readsMissing().join("; "));
      const senders = buses.map((_, i) => i);
      for (const r of received) {
        expect(r.of(readerTag).sort()).toEqual(senders.map((i) => `${readerTag}${i}`));
        expect(r.of(typistTag).sort()).toEqual(senders.map((i) => `${typistTag}${i}`));
        expect(r.events.find((e) => e.type === "typing" && e.typing.typistId === `${typistTag}0`)).toEqual({ type: "typing", typing: typing(0) });
        expect(r.of(roomTag).sort()).toEqual(senders.map((i) => `${roomTag}${i}`));
        expect(r.events.find((e) => e.type === "room_created" && e.room.name === `${roomTag}0`)).toEqual({ type: "room_created", room: created(0) });
        expect(r.events.find((e) => e.type === "read" && e.userId === `${readerTag}0`)).toEqual({ type: "read", userId: `${readerTag}0`, state: readState });
        expect(r.of(channelTag(room)).sort()).toEqual(senders.map((i) => `room from ${i}`));
        expect(r.of(channelTag(inbox)).sort()).toEqual(senders.map((i) => `dm from ${i}`));
        expect(r.of(tokenTag).sort()).toEqual(senders.map((i) => `${tokenTag}${i}`));
        const revocation = r.events.find((e) => e.type === "token_revoked" && e.tokenId === `${tokenTag}0`);
        expect(revocation).toEqual({ type: "token_revoked", tokenId: `${tokenTag}0`, expiresAtMs: 1_900_000_000_000 });
        const sent = r.events.find((e) => e.type === "message" && e.message.text === "room from 0");
        expect(sent).toMatchObject({ type: "message", message: { channel: room, senderId: "1", senderName: "alice" } });
      }
    });

    for (const kind of ["room", "user"] as const) {
      it(`keeps publish order per ${kind === "room" ? "room" : "inbox"} for 200 rapid, interleaved publishes`, async () => {
        expect.assertions(2 * nodes);
        const { buses, received } = await started();
        const a = { kind, id: unique() };
        const b = { kind, id: unique() };
        const first = buses[0]!;
        const second = buses[buses.length - 1]!;
        const count = 200;
        const texts = Array.from({ length: count }, (_, i) => `m${i}`);
        const publishes: Promise<void>[] = [];
        for (const text of texts) {
          publishes.push(first.publish(message(a, text)), second.publish(message(b, text)));
        }
        await Promise.all(publishes);
        await afterSentinels(buses, received, [a, b]);
        for (const r of received) {
          expect(r.of(channelTag(a))).toEqual(texts);
          expect(r.of(channelTag(b))).toEqual(texts);
        }
      });
    }

    it("delivers an event published immediately after start() resolved", async () => {
      expect.assertions(2 * nodes);
      const fixture = await makeBuses(nodes);
      fixtures.push(fixture);
      const room = { kind: "room", id: unique() } as const;
      const received = fixture.buses.map(() => new Received());
      for (const [i, bus] of fixture.buses.entries()) {
        await bus.start((event) => received[i]!.push(event));
        await bus.publish(message(room, `after start ${i}`));
      }
      // Node i was started before the publishes of nodes i..n-1 (its own included): it must get
      // those, in order. (Earlier ones it may or may not get: they preceded its start.)
      const required = received.map((_, i) => fixture.buses.slice(i).map((_, j) => `after start ${i + j}`));
      await afterSentinels(fixture.buses, received, [room]);
      for (const [i, r] of received.entries()) {
        const got = r.of(channelTag(room));
        expect(got.filter((t) => required[i]!.includes(t))).toEqual(required[i]);
        expect(new Set(got).size).toBe(got.length);
      }
    });

    it("delivers nothing after close()", async () => {
      expect.assertions(nodes);
      const { buses, received } = await started();
      const room = { kind: "room", id: unique() } as const;
      await buses[0]!.publish(message(room, "before"));
      await afterSentinels(buses, received, [room]);
      const closed = buses.length - 1;
      await buses[closed]!.close();
      // The closed bus may refuse to publish; the others must still deliver to their listeners.
      await buses[closed]!.publish(message(room, "after")).catch(() => undefined);
      for (const bus of buses.slice(0, closed)) await bus.publish(message(room, "after"));
      const open = received.slice(0, closed);
      // The open nodes' sentinels come after "after" in the room's order: once they arrived, a
      // closed node that still delivered would have had "after" too. With one node there is no
      // open one to carry a sentinel: the adapter that plays one node (memory) hands an event
      // over within publish(), so once publish resolved, a delivery would already have happened.
      await afterSentinels(buses.slice(0, closed), open, [room]);
      expect(received[closed]!.of(channelTag(room))).toEqual(["before"]);
      for (const r of open) expect(r.of(channelTag(room))).toEqual(["before", "after"]);
    });
  });
}
