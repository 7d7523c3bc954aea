/**
 * The bus contract against real Kafka with two nodes, plus what only the Kafka adapter does:
 * topic layout, the start-up race under continuous traffic, consumer lag, error mapping, group
 * clean-up. Needs KAFKA_BROKERS (`eval "$(bash scripts/engines.sh start)"`); each run uses its own
 * topic prefix and deletes its topics afterwards.
 */
import { randomBytes } from "node:crypto";
import kafkajs from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { KafkaBus, type KafkaBusOptions, type LogStore } from "../../src/bus/kafka/kafka-bus.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { busTopics } from "../../src/bus/kafka/topics.js";
import type { BusEvent } from "../../src/bus/bus.js";
import { UnavailableError } from "../../src/domain/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { busContract } from "./bus-contract.js";

const brokersEnv = process.env.KAFKA_BROKERS;
const REASON = "CI must start Kafka: bash scripts/engines.sh start";

if (!brokersEnv) {
  if (process.env.CI) {
    describe("kafka bus", () => {
      it("has a Kafka to test against", () => {
        throw new Error(REASON);
      });
    });
  } else {
    describe.skip(`kafka bus (KAFKA_BROKERS is unset; run: eval "$(bash scripts/engines.sh start)")`, () => {
      it("needs Kafka", () => undefined);
    });
  }
} else {
  kafkaSuites(brokersEnv.split(",").map((b) => b.trim()));
}

function kafkaSuites(brokers: string[]): void {
  const topicPrefix = `parley-test-${randomBytes(4).toString("hex")}`;
  const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
  const config = { brokers, clientId: "parley-test", topicPrefix };
  const made: KafkaBus[] = [];
  const newBus = (options: KafkaBusOptions = {}, metrics = new Metrics(), store?: LogStore): KafkaBus => {
    const bus = new KafkaBus(config, logger, metrics, { publishTimeoutMs: 5000, ...options }, store);
    made.push(bus);
    return bus;
  };

  afterAll(async () => {
    await Promise.all(made.map((b) => b.close()));
    const admin = new kafkajs.Kafka({ clientId: "parley-test-cleanup", brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [...busTopics(topicPrefix).all] }).catch(() => undefined);
    await admin.disconnect();
  });

  busContract(
    "kafka",
    async (n) => {
      const buses = Array.from({ length: n }, () => newBus());
      return { buses, cleanup: async () => void (await Promise.all(buses.map((b) => b.close()))) };
    },
    { nodes: 2 },
  );

  describe("kafka bus: adapter specifics", () => {
    const admin = new kafkajs.Kafka({ clientId: "parley-test-admin", brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    afterAll(() => admin.disconnect());

    it("creates the three topics with 8 partitions each", async () => {
      const bus = newBus();
      await bus.start(() => undefined);
      await admin.connect();
      const topics = busTopics(topicPrefix);
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics.all] });
      expect(metadata.map((t) => [t.name, t.partitions.length]).sort()).toEqual(topics.all.map((t) => [t, 8]).sort());
      await bus.close();
    });

    it("delivers everything published after start() resolves while another node publishes non-stop", async () => {
      const publisher = newBus();
      await publisher.start(() => undefined);
      const room = `race${randomBytes(4).toString("hex")}`;
      let i = 0;
      let running = true;
      const publishedAt: Array<{ text: string; at: number }> = [];
      const pump = (async () => {
        while (running) {
          const text = `n${i++}`;
          publishedAt.push({ text, at: performance.now() });
          await publisher.publish(roomMessage(room, text));
        }
      })();
      // Let the publisher get going first, so the late subscriber starts in the middle of traffic.
      await waitFor(() => publishedAt.length >= 20, () => `published ${publishedAt.length}`);
      const received: string[] = [];
      const late = newBus();
      await late.start((e) => {
        if (e.type === "message" && e.message.channel.id === room) received.push(e.message.text);
      });
      const startedAt = performance.now();
      // Keep publishing until the late subscriber has received traffic published after its start.
      await waitFor(
        () => received.length > 0 && publishedAt.filter((p) => p.at >= startedAt).length > 10,
        () => `received ${received.length}, published ${publishedAt.length}`,
      );
      running = false;
      await pump;
      const required = publishedAt.filter((p) => p.at >= startedAt).map((p) => p.text);
      expect(required.length).toBeGreaterThan(10);
      await waitFor(() => required.every((t) => received.includes(t)), () => `missing ${required.filter((t) => !received.includes(t)).slice(0, 5)}`);
      // Whatever it got, it got once and in order.
      const numbers = received.map((t) => Number(t.slice(1)));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(new Set(numbers).size).toBe(numbers.length);
    });

    it("reports consumer lag per topic", async () => {
      const metrics = new Metrics();
      const bus = newBus({ lagIntervalMs: 100 }, metrics);
      await bus.start(() => undefined);
      await bus.publish(roomMessage("lag", "x"));
      // Wait for the sampler to have reported every topic (it samples every 100 ms), then for it to catch up.
      const topics = [...busTopics(topicPrefix).all].sort();
      let values = (await metrics.busLag.get()).values;
      await waitFor(
        async () => {
          values = (await metrics.busLag.get()).values;
          return values.length === topics.length && values.every((v) => v.value === 0);
        },
        () => `lag not reported as caught up: ${JSON.stringify(values)}`,
      );
      expect(values.map((v) => v.labels.topic).sort()).toEqual(topics);
      for (const v of values) expect(v.value).toBe(0);
      await bus.close();
    });

    it("fails publish with UnavailableError when Kafka cannot be reached", async () => {
      const bus = new KafkaBus({ brokers: ["127.0.0.1:1"], clientId: "parley-test", topicPrefix }, createLogger("silent"), new Metrics(), {
        publishTimeoutMs: 500,
      });
      const started = Date.now();
      const error = await bus.publish(roomMessage("1", "x")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toMatch(/message bus \(Kafka\)/);
      expect(Date.now() - started).toBeLessThan(3000);
      await bus.close();
    });

    it("names every record alike on every node, answers an append with that name, and stores every record from the log", async () => {
      const written = new Map<string, ChatMessage>();
      const store = { identity: `test-${randomBytes(4).toString("hex")}`, write: async (m: ChatMessage) => void written.set(m.id, m) };
      const [a, b] = [newBus({}, new Metrics(), store), newBus({}, new Metrics(), store)];
      const seen: Array<Map<string, ChatMessage>> = [new Map(), new Map()];
      const room = `log${randomBytes(4).toString("hex")}`;
      await Promise.all([a, b].map((bus, i) => bus.start((e) => void (e.type === "message" && e.message.channel.id === room && seen[i]!.set(e.message.text, e.message)))));
      const draft = (text: string, key = "") => ({ channel: { kind: "room" as const, id: room }, senderId: "1", senderName: "a", text, clientMessageId: key });
      // Interleaved appends from both nodes; some only published (nobody writes those but the store writer).
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? (i % 2 ? a : b).publish(roomMessage(room, `p${i}`)).then(() => undefined) : (i % 2 ? a : b).log.append(draft(`m${i}`)))),
      );
      await waitFor(() => seen.every((s) => s.size === 60), () => `seen ${seen.map((s) => s.size)}`);
      // One order: the same ids on both nodes, increasing in delivery order.
      expect([...seen[0]!.values()]).toEqual([...seen[1]!.values()]);
      const order = [...seen[0]!.values()].map((m) => BigInt(m.id));
      expect(order).toEqual([...order].sort((x, y) => (x < y ? -1 : 1)));
      for (const answer of answers) if (answer) expect(seen[1]!.get(answer.message.text)).toEqual(answer.message);
      // The store writer wrote every record, the published-only ones included, under the same ids.
      await waitFor(() => [...seen[0]!.values()].every((m) => written.has(m.id)), () => `written ${written.size} of 60`);
      // A retry of a key the log holds is answered with the original and delivered to nobody.
      const first = await a.log.append(draft("keyed", "k1"));
      const retry = await b.log.append(draft("keyed", "k1"));
      expect(retry).toEqual({ message: first.message, created: false });
      await waitFor(() => seen.every((s) => s.has("keyed")), () => "keyed not delivered");
      expect(seen.map((s) => s.size)).toEqual([61, 61]);
    });

    it("deletes its consumer group on close()", async () => {
      const bus = newBus();
      await bus.start(() => undefined);
      await admin.connect();
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(bus.groupId);
      await bus.close();
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(bus.groupId);
    });
  });
}

function roomMessage(roomId: string, text: string): BusEvent {
  const id = `${Date.now()}${randomBytes(2).readUInt16BE(0)}`;
  return {
    type: "message",
    message: { id, channel: { kind: "room", id: roomId }, senderId: "1", senderName: "a", text, createdAtMs: Date.now(), clientMessageId: "" },
  };
}

/** Re-checks `done` every 20 ms (a poll of state, not a wait standing in for an event) until it holds or the deadline fails the test. */
async function waitFor(done: () => boolean | Promise<boolean>, progress: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${progress()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
