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

/** A started listener's record of what it received. */
class Received {
  readonly events: BusEvent[] = [];
  /** Message texts (or token ids) of one channel, in arrival order. */
  of(tag: string): string[] {
    return this.events.flatMap((e) => {
      if (e.type === "message") return channelTag(e.message.channel) === tag ? [e.message.text] : [];
      return e.tokenId.startsWith(tag) ? [e.tokenId] : [];
    });
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
    await Promise.all(fixture.buses.map((bus, i) => bus.start((event) => received[i]!.events.push(event))));
    return { buses: fixture.buses, received };
  }

  /** Polls until `done()`, then waits a little longer so duplicates would show up. */
  async function waitUntil(done: () => boolean, progress: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`not delivered within ${timeoutMs} ms: ${progress()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Waits until every listener has at least `count` events of each tag. */
  function settle(received: Received[], expected: Record<string, number>): Promise<void> {
    return waitUntil(
      () => received.every((r) => Object.entries(expected).every(([tag, n]) => r.of(tag).length >= n)),
      () => {
        const got = received.map((r) => Object.fromEntries(Object.keys(expected).map((t) => [t, r.of(t).length])));
        return `expected ${JSON.stringify(expected)} per node, got ${JSON.stringify(got)}`;
      },
    );
  }

  describe(`bus contract: ${name} (${nodes} node${nodes === 1 ? "" : "s"})`, () => {
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
    });

    it("delivers every event published on any node to every listener exactly once", async () => {
      const { buses, received } = await started();
      const room = { kind: "room", id: unique() } as const;
      const inbox = { kind: "user", id: unique() } as const;
      const tokenTag = `tok${unique()}-`;
      await Promise.all(
        buses.flatMap((bus, i) => [
          bus.publish(message(room, `room from ${i}`)),
          bus.publish(message(inbox, `dm from ${i}`)),
          bus.publish({ type: "token_revoked", tokenId: `${tokenTag}${i}`, expiresAtMs: 1_900_000_000_000 }),
        ]),
      );
      const tags = { [channelTag(room)]: nodes, [channelTag(inbox)]: nodes, [tokenTag]: nodes };
      await settle(received, tags);
      const senders = buses.map((_, i) => i);
      for (const r of received) {
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
        await settle(received, { [channelTag(a)]: count, [channelTag(b)]: count });
        for (const r of received) {
          expect(r.of(channelTag(a))).toEqual(texts);
          expect(r.of(channelTag(b))).toEqual(texts);
        }
      });
    }

    it("delivers an event published immediately after start() resolved", async () => {
      const fixture = await makeBuses(nodes);
      fixtures.push(fixture);
      const room = { kind: "room", id: unique() } as const;
      const received = fixture.buses.map(() => new Received());
      for (const [i, bus] of fixture.buses.entries()) {
        await bus.start((event) => received[i]!.events.push(event));
        await bus.publish(message(room, `after start ${i}`));
      }
      // Node i was started before the publishes of nodes i..n-1 (its own included): it must get
      // those, in order. (Earlier ones it may or may not get: they preceded its start.)
      const required = received.map((_, i) => fixture.buses.slice(i).map((_, j) => `after start ${i + j}`));
      const has = (i: number) => required[i]!.every((t) => received[i]!.of(channelTag(room)).includes(t));
      await waitUntil(
        () => received.every((_, i) => has(i)),
        () => JSON.stringify(received.map((r) => r.of(channelTag(room)))),
      );
      for (const [i, r] of received.entries()) {
        const got = r.of(channelTag(room));
        expect(got.filter((t) => required[i]!.includes(t))).toEqual(required[i]);
        expect(new Set(got).size).toBe(got.length);
      }
    });

    it("delivers nothing after close()", async () => {
      const { buses, received } = await started();
      const room = { kind: "room", id: unique() } as const;
      await buses[0]!.publish(message(room, "before"));
      await settle(received, { [channelTag(room)]: 1 });
      const closed = buses.length - 1;
      await buses[closed]!.close();
      // The closed bus may refuse to publish; the others must still deliver to their listeners.
      await buses[closed]!.publish(message(room, "after")).catch(() => undefined);
      for (const bus of buses.slice(0, closed)) await bus.publish(message(room, "after"));
      const open = received.slice(0, closed);
      if (open.length > 0) await settle(open, { [channelTag(room)]: 2 });
      else await new Promise((r) => setTimeout(r, 500));
      expect(received[closed]!.of(channelTag(room))).toEqual(["before"]);
      for (const r of open) expect(r.of(channelTag(room))).toEqual(["before", "after"]);
    });
  });
}
