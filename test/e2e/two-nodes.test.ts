/**
 * Two real Parley processes (`tsx src/main.ts`) sharing one Cassandra keyspace and one Kafka
 * topic prefix, as a deployment behind a load balancer runs them:
 *   (a) a subscriber on node B receives what is posted on node A, once and in order, over gRPC
 *       and over Connect;
 *   (b) node A is SIGKILLed while a client posts to it (the poster retries on B, same
 *       client_message_id); a subscriber on A resumes on B with `since` and ends with every
 *       acknowledged message exactly once;
 *   (c) signing out on node A ends the same token's open stream on node B with UNAUTHENTICATED;
 *   (d) a room marked read in a session on node A reaches the user's direct-message stream in
 *       another session on node B as a `read` frame (the control topic, keyed by user id);
 *   (e) presence: a user whose stream is open on A is present on B (frames and GetRoomPresence),
 *       leaves on B when the stream closes, and — when A is SIGKILLed — leaves B's view within
 *       PRESENCE_TTL (+ a batch and slack), A never having said goodbye.
 * Needs KAFKA_BROKERS and CASSANDRA_CONTACT_POINTS (`eval "$(bash scripts/engines.sh start)"`).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import cassandra from "cassandra-driver";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { busTopics } from "../../src/bus/kafka/topics.js";
import { startServer, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { collect } from "../support/frames.js";
import type { Presence } from "../../gen/chat/v1/types_pb.js";
import { PRESENCE_BATCH_MS, PRESENCE_TTL_MS } from "../../src/realtime/presence.js";

/**
 * A new room, a watcher on `watchOn` whose stream asks for its presence frames, and a visitor whose
 * stream on `visitOn` (opened by visit(), ended by leave()) makes them present: the scene of every
 * presence test here. until() waits for a frame that holds; joined/left tell the visitor's.
 */
async function presenceScene(visitOn: string, watchOn: string, name: string) {
  const [visitor, watcher] = [await newUser(visitOn, "grpc"), await newUser(watchOn, "grpc")];
  const { room } = await visitor.clients.rooms.createRoom({ name: uniqueName(name) });
  const roomId = room!.roomId;
  const progress = new Progress();
  const seen: Presence[] = [];
  const [watching, visiting] = [new AbortController(), new AbortController()];
  void (async () => {
    try {
      for await (const { frame } of chatClients(watchOn, watcher.token, "grpc").messages.subscribeRoom({ roomId, presence: true }, { signal: watching.signal })) {
        if (frame.case !== "presence") continue;
        seen.push(frame.value);
        progress.changed();
      }
    } catch {
      // Ended by close().
    }
  })();
  const isVisitor = (m: { userId: string }) => m.userId === visitor.user.userId;
  return {
    visitor,
    watcher,
    roomId,
    seen,
    until: (check: (p: Presence) => boolean, what: string, timeoutMs = 15_000) => progress.until(() => seen.some(check), what, timeoutMs),
    joined: (p: Presence) => p.joined.some(isVisitor),
    left: (p: Presence) => p.left.some(isVisitor),
    /** Opens the visitor's stream and waits for its Ready. */
    async visit(): Promise<void> {
      const stream = chatClients(visitOn, visitor.token, "grpc").messages.subscribeRoom({ roomId }, { signal: visiting.signal })[Symbol.asyncIterator]();
      await collect(stream, (c) => c.cases.includes("ready"));
    },
    leave: () => visiting.abort(),
    close(): void {
      visiting.abort();
      watching.abort();
    },
  };
}

const brokers = process.env.KAFKA_BROKERS;
const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const localDc = process.env.CASSANDRA_LOCAL_DC || "datacenter1";

if (!brokers || !contactPoints) {
  if (process.env.CI) {
    describe("two nodes", () => {
      it("has Kafka and Cassandra to run against", () => {
        throw new Error("CI must start Kafka: bash scripts/engines.sh start");
      });
    });
  } else {
    describe.skip(`two nodes (KAFKA_BROKERS or CASSANDRA_CONTACT_POINTS unset; run: eval "$(bash scripts/engines.sh start)")`, () => {
      it("needs Kafka and Cassandra", () => undefined);
    });
  }
} else {
  twoNodes(brokers, contactPoints);
}

function twoNodes(brokers: string, contactPoints: string): void {
  const suffix = randomBytes(4).toString("hex");
  const keyspace = `parley_e2e_${suffix}`;
  const topicPrefix = `parley-e2e-${suffix}`;
  const tokenKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const nodeEnv = (workerId: number) => ({
    STORE: "cassandra",
    BUS: "kafka",
    CASSANDRA_CONTACT_POINTS: contactPoints,
    CASSANDRA_LOCAL_DC: localDc,
    CASSANDRA_KEYSPACE: keyspace,
    CASSANDRA_CONSISTENCY: "ONE",
    // The shared engines serve the whole parallel suite: a fresh keyspace's first statements can
    // take over the 1.5 s default. The default's bound is proven by the chaos suite (test/chaos).
    CASSANDRA_REQUEST_TIMEOUT_MS: "5000",
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    WORKER_ID: String(workerId),
    TOKEN_PRIVATE_KEY: tokenKey,
    HEARTBEAT_SECONDS: "2",
  });
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    // One after the other: the first creates the keyspace, tables and topics.
    a = await startServer({ env: nodeEnv(1) });
    b = await startServer({ env: nodeEnv(2) });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const cql = new cassandra.Client({ contactPoints: contactPoints.split(","), localDataCenter: localDc });
    await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 60_000 }).catch(() => undefined);
    await cql.shutdown();
    const admin = new kafkajs.Kafka({ clientId: "parley-e2e-cleanup", brokers: brokers.split(","), logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [...busTopics(topicPrefix).all] }).catch(() => undefined);
    await admin.disconnect();
  }, 120_000);

  describe("two Parley nodes on one Cassandra and one Kafka", () => {
    it("delivers what is posted on A to subscribers on B, once and in order, over gRPC and Connect", async () => {
      const poster = await newUser(a.url, "grpc");
      const { room } = await poster.clients.rooms.createRoom({ name: uniqueName("pair") });
      const roomId = room!.roomId;
      const controller = new AbortController();
      const streams = (["grpc", "connect-json"] as const).map((protocol) =>
        chatClients(b.url, poster.token, protocol).messages.subscribeRoom({ roomId }, { signal: controller.signal })[Symbol.asyncIterator](),
      );
      for (const s of streams) expect((await collect(s, (c) => c.cases.includes("ready"))).cases).toEqual(["ready"]);
      const texts = Array.from({ length: 30 }, (_, i) => `hello ${i}`);
      const ids: string[] = [];
      for (const text of texts) ids.push((await poster.clients.messages.postMessage({ roomId, text })).message!.messageId);
      for (const s of streams) {
        const got = await collect(s, (c) => c.texts.length >= texts.length, 20_000);
        expect(got.texts).toEqual(texts);
        expect(got.ids).toEqual(ids);
        // Nothing more: the next frame is a heartbeat, not a duplicate.
        const after = await collect(s, (c) => c.cases.includes("heartbeat"), 5000);
        expect(after.texts).toEqual([]);
      }
      controller.abort();
    });

    it("signing out on A ends the token's open stream on B with UNAUTHENTICATED", async () => {
      const user = await newUser(a.url, "grpc");
      const onB = chatClients(b.url, user.token, "grpc");
      const stream = onB.messages.subscribeDirectMessages({})[Symbol.asyncIterator]();
      await collect(stream, (c) => c.cases.includes("ready"));
      await user.clients.auth.signOut({});
      await expect(collect(stream, () => false, 15_000)).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(onB.auth.getMe({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    });

    it("a mark on A reaches the user's direct-message stream in another session on B as a read frame", async () => {
      const [user, poster] = [await newUser(a.url, "grpc"), await newUser(a.url, "grpc")];
      const { room } = await user.clients.rooms.createRoom({ name: uniqueName("reads") });
      const posted = await poster.clients.messages.postMessage({ roomId: room!.roomId, text: "read me" });
      const second = await chatClients(b.url, undefined, "grpc").auth.signIn({ username: user.user.username, password: user.password });
      const controller = new AbortController();
      const stream = chatClients(b.url, second.accessToken, "grpc").messages.subscribeDirectMessages({}, { signal: controller.signal })[Symbol.asyncIterator]();
      await collect(stream, (c) => c.cases.includes("ready"));
      const marked = await user.clients.messages.markRoomRead({ roomId: room!.roomId, messageId: posted.message!.messageId });
      // Heartbeats (every 2 s) may come first; ten of them without the frame is a failure.
      let frame: { case: string | undefined; value?: unknown } | undefined;
      for (let beats = 0; beats < 10; beats++) {
        const next = await stream.next();
        if (next.done) break;
        frame = next.value.frame;
        if (frame.case !== "heartbeat") break;
      }
      expect(frame).toEqual({ case: "read", value: marked.readState });
      controller.abort();
    });

    it("typing on A reaches the other subscribers of the room on B as a typing frame (the control topic, keyed by channel)", async () => {
      const [typist, watcher] = [await newUser(a.url, "grpc"), await newUser(a.url, "grpc")];
      const { room } = await typist.clients.rooms.createRoom({ name: uniqueName("typing") });
      const controller = new AbortController();
      const stream = chatClients(b.url, watcher.token, "grpc").messages.subscribeRoom({ roomId: room!.roomId }, { signal: controller.signal })[Symbol.asyncIterator]();
      await collect(stream, (c) => c.cases.includes("ready"));
      await typist.clients.messages.setTyping({ roomId: room!.roomId });
      let frame: { case: string | undefined; value?: unknown } | undefined;
      for (let beats = 0; beats < 10; beats++) {
        const next = await stream.next();
        if (next.done) break;
        frame = next.value.frame;
        if (frame.case !== "heartbeat") break;
      }
      expect(frame).toMatchObject({
        case: "typing",
        value: { channel: { case: "roomId", value: room!.roomId }, user: { userId: typist.user.userId, username: typist.user.username }, stopped: false },
      });
      controller.abort();
    });

    it("a room created on A reaches a room-list watcher on B (the control topic, keyed \"rooms\"), and a resume on B from an older room replays it from Cassandra", async () => {
      const [creator, watcher] = [await newUser(a.url, "grpc"), await newUser(b.url, "grpc")];
      const { room: before } = await creator.clients.rooms.createRoom({ name: uniqueName("before") });
      const controller = new AbortController();
      const stream = chatClients(b.url, watcher.token, "grpc").rooms.watchRooms({}, { signal: controller.signal })[Symbol.asyncIterator]();
      const ready = await stream.next();
      expect(ready.value?.frame.case).toBe("ready");
      const { room } = await creator.clients.rooms.createRoom({ name: uniqueName("live") });
      let frame: { case: string | undefined; value?: unknown } | undefined;
      for (let frames = 0; frames < 20; frames++) {
        const next = await stream.next();
        if (next.done) break;
        frame = next.value.frame;
        if (frame.case === "created" && (frame.value as { roomId: string }).roomId === room!.roomId) break;
      }
      expect(frame).toMatchObject({ case: "created", value: { roomId: room!.roomId, name: room!.name, createdBy: creator.user.userId } });
      controller.abort();
      // Resume on B from the room before: both come back from the store (created on A, ids of A's clock).
      const resumed = new AbortController();
      const replay = chatClients(b.url, watcher.token, "grpc").rooms.watchRooms({ since: before!.roomId }, { signal: resumed.signal })[Symbol.asyncIterator]();
      const seen: string[] = [];
      for (let frames = 0; frames < 1000 && !seen.includes(room!.roomId); frames++) {
        const next = await replay.next();
        if (next.done) break;
        if (next.value.frame.case === "created") seen.push(next.value.frame.value.roomId);
      }
      expect(seen).toContain(room!.roomId);
      expect(new Set(seen).size).toBe(seen.length);
      resumed.abort();
    });

    it("presence crosses nodes: a stream open on A makes its user present on B (frames and GetRoomPresence) until it closes", async () => {
      const scene = await presenceScene(a.url, b.url, "presence");
      const { visitor, watcher, roomId } = scene;
      await scene.until((p) => p.snapshot, "the snapshot on B", 10_000);
      await scene.visit();
      await scene.until(scene.joined, "A's user joined on B");
      // Every worker of B applies the reports itself: the one that answers may be a batch behind the watcher's.
      await expect
        .poll(async () => (await watcher.clients.rooms.getRoomPresence({ roomId })).users.map((u) => u.userId).sort(), { timeout: 5_000 })
        .toEqual([visitor.user.userId, watcher.user.userId].sort());
      expect((await watcher.clients.rooms.getRoomPresence({ roomId })).count).toBe(2);
      scene.leave();
      await scene.until(scene.left, "A's user left on B");
      expect(scene.seen.at(-1)).toMatchObject({ roomId, count: 1, joined: [], left: [{ userId: visitor.user.userId, username: visitor.user.username }] });
      scene.close();
    });

    it("a node that stops cleanly takes its users out of presence at once, not after PRESENCE_TTL", async () => {
      const c = await startServer({ env: nodeEnv(3) });
      try {
        const scene = await presenceScene(c.url, a.url, "presence-stop");
        await scene.visit();
        await scene.until(scene.joined, "C's user present on A");
        const stoppedAt = Date.now();
        const stopping = c.stop();
        await scene.until(scene.left, "C's user left on A");
        expect(Date.now() - stoppedAt).toBeLessThan(PRESENCE_TTL_MS / 2);
        expect(await stopping).toBe(0);
        scene.close();
      } finally {
        if (c.alive()) await c.kill();
      }
    }, 60_000);

    // Last: it kills node A.
    it("loses no acknowledged message when A is killed mid-stream: the subscriber resumes on B; A's users leave B's presence within PRESENCE_TTL", async () => {
      // Someone with a room open on A only, and a presence watcher on B.
      const presence = await presenceScene(a.url, b.url, "presence-kill");
      await presence.visit();
      await presence.until(presence.joined, "A's user present on B");

      const user = await newUser(a.url);
      const { room } = await user.clients.rooms.createRoom({ name: uniqueName("crash") });
      const roomId = room!.roomId;
      const clients = { a: chatClients(a.url, user.token), b: chatClients(b.url, user.token) };

      // The subscriber starts on A and, when A dies, resumes on B after the last id it saw.
      const received: Array<{ id: string; text: string }> = [];
      const acked: Array<{ id: string; text: string }> = [];
      const progress = new Progress();
      let stopReading = false;
      let reading: AbortController | undefined;
      let node: "a" | "b" = "a";
      let readyOn: "a" | "b" | undefined;
      const subscriber = (async () => {
        let resumes = 0;
        while (!stopReading) {
          const since = received.at(-1)?.id ?? "";
          reading = new AbortController();
          const stream = clients[node].messages.subscribeRoom({ roomId, since }, { signal: reading.signal });
          try {
            for await (const { frame } of stream) {
              if (frame.case === "ready") readyOn = node;
              if (frame.case === "message") received.push({ id: frame.value.messageId, text: frame.value.text });
              progress.changed();
            }
          } catch (error) {
            if (stopReading) break;
            if (node === "a") node = "b";
            else if (++resumes > 5) throw error;
          } finally {
            reading.abort();
          }
        }
      })();
      await progress.until(() => readyOn === "a", "the subscriber ready on A", 10_000);

      // The poster posts to A until it fails, then retries the same message on B.
      let posting = true;
      let target: "a" | "b" = "a";
      const poster = (async () => {
        for (let i = 0; posting; i++) {
          const request = { roomId, text: `p${i}`, clientMessageId: `crash-${i}` };
          for (let attempt = 0; ; attempt++) {
            try {
              const { message } = await clients[target].messages.postMessage(request);
              acked.push({ id: message!.messageId, text: message!.text });
              progress.changed();
              break;
            } catch (error) {
              if (target === "a") target = "b";
              else if (attempt > 5 || !(error instanceof ConnectError)) throw error;
              // A client's back-off before it retries on B (while B's consumer group takes over A's
              // partitions), as a real client's: what it waits for is the client's own pace.
              else await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
      })();

      await progress.until(() => acked.length >= 25 && received.length >= 5, "25 acknowledged, 5 received on A", 20_000);
      await a.kill();
      const killedAt = Date.now();
      const atKill = acked.length;
      await progress.until(() => acked.length >= atKill + 25, "25 more acknowledged on B", 30_000);
      posting = false;
      await poster;
      expect(target).toBe("b");
      await progress.until(() => readyOn === "b", "the subscriber resumed on B", 20_000);
      // Every acknowledged message received, or the assertions below say which are missing.
      await progress.until(() => acked.every((m) => received.some((r) => r.id === m.id)), "every acknowledged message received", 30_000).catch(() => undefined);
      stopReading = true;
      reading?.abort();
      await subscriber;

      const receivedIds = received.map((r) => r.id);
      expect(new Set(receivedIds).size).toBe(receivedIds.length); // exactly once
      expect(new Set(received.map((r) => r.text)).size).toBe(received.length); // one id per posted text
      expect([...receivedIds].sort()).toEqual(acked.map((m) => m.id).sort()); // every ack, nothing else
      const sorted = [...receivedIds].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0));
      expect(receivedIds).toEqual(sorted); // in id order

      // A died without a goodbye: its users leave B's view once B has not heard from it for
      // PRESENCE_TTL, at B's next batch — the documented bound, plus slack for a loaded machine.
      await presence.until(presence.left, "A's user left B's presence", 40_000);
      const tookMs = Date.now() - killedAt;
      expect(tookMs).toBeGreaterThan(PRESENCE_TTL_MS - 5 * PRESENCE_BATCH_MS);
      expect(tookMs).toBeLessThan(PRESENCE_TTL_MS + 2 * PRESENCE_BATCH_MS + 5_000);
      await expect
        .poll(async () => (await presence.watcher.clients.rooms.getRoomPresence({ roomId: presence.roomId })).users.map((u) => u.userId), { timeout: 5_000 })
        .toEqual([presence.watcher.user.userId]);
      presence.close();
    }, 120_000);
  });
}

/** Wakes the waits of a test whenever its clients record something: no polling. */
class Progress {
  readonly #waits = new Set<() => void>();
  changed(): void {
    for (const wake of [...this.#waits]) wake();
  }
  /** Resolves once `done()` holds, re-checked on each change; fails after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waits.delete(wake);
        reject(new Error(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waits.delete(wake);
        resolve();
      };
      this.#waits.add(wake);
      wake();
    });
  }
}
