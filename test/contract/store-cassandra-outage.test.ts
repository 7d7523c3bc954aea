/**
 * The Cassandra store when Cassandra stops answering or its connections drop, with the real
 * driver: the store reaches the engine (CASSANDRA_CONTACT_POINTS, its own keyspace) through a
 * proxy in this process that can hold traffic (a paused engine: nothing answers) or cut every
 * connection (requests in flight see the driver's "Socket was closed"). Every failure must be
 * UnavailableError — never a raw driver error, which the edges would answer as INTERNAL — and be
 * logged at warn, once, never at error; the store answers again once traffic flows.
 * Engine pauses themselves (SIGSTOP) belong to the chaos suite.
 */
import net from "node:net";
import cassandra from "cassandra-driver";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/domain/errors.js";
import { CassandraStore } from "../../src/store/cassandra/cassandra-store.js";

const contactPoints = (process.env.CASSANDRA_CONTACT_POINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const localDc = process.env.CASSANDRA_LOCAL_DC || "datacenter1";

/** A TCP proxy to one engine that can hold traffic (buffered, delivered on release) or cut every connection. */
class Proxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #held: Array<() => void> = [];
  #holding = false;

  constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        this.#sockets.add(from);
        from.on("data", (chunk) => (this.#holding ? this.#held.push(() => to.write(chunk)) : to.write(chunk)));
        from.on("error", end);
        from.on("close", () => {
          this.#sockets.delete(from);
          end();
        });
      }
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  /** Nothing passes until release(): requests are sent but never answered, as with a paused engine. */
  hold(): void {
    this.#holding = true;
  }

  /** Delivers what was held and lets traffic flow again. */
  release(): void {
    this.#holding = false;
    for (const deliver of this.#held.splice(0)) deliver();
  }

  /** Drops every connection (and whatever was held on them). */
  cut(): void {
    this.#held.length = 0;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Settles every promise: the values, or the errors they rejected with. */
const outcomes = (calls: ReadonlyArray<Promise<unknown>>) => Promise.all(calls.map((call) => call.then(() => "answered", (error: unknown) => error)));

if (contactPoints.length > 0) {
  describe("cassandra store when Cassandra does not answer", { timeout: 60_000 }, () => {
    const keyspace = `parley_outage_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const lines: Array<{ level: number; msg: string }> = [];
    let proxy: Proxy;
    let store: CassandraStore;

    beforeAll(async () => {
      const [host, port] = contactPoints[0]!.split(":");
      proxy = new Proxy({ host: host!, port: Number(port ?? 9042) });
      const through = await proxy.listen();
      const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const options = { contactPoints: [through], localDc, keyspace, replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}", consistency: "LOCAL_QUORUM" };
      // Short enough for a quick test, long enough for the shared engines to answer when traffic flows.
      store = await CassandraStore.connect({ ...options, requestTimeoutMs: 800 }, logger);
    }, 180_000);

    afterAll(async () => {
      await store?.close();
      await proxy?.close();
      const admin = new cassandra.Client({ contactPoints, localDataCenter: localDc });
      try {
        await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 60_000 });
      } finally {
        await admin.shutdown();
      }
    }, 60_000);

    /**
     * Reads until the store answers again (after a release or a reconnection). A poll: the
     * driver's reconnection is no event the store exposes, and a read is the question asked.
     */
    async function answersAgain(): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (!(await store.findUserById("1").then(() => true, () => false))) {
        if (Date.now() > deadline) throw new Error("the store did not answer again within 30 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    it("answers UnavailableError (cause: the driver's timeout) when nothing comes back, then answers again", async () => {
      await store.findUserById("1");
      proxy.hold();
      const held = await outcomes([store.findUserById("2"), store.isTokenRevoked("held"), store.revokeToken(`held-${Date.now()}`, Date.now() + 60_000)]);
      for (const error of held) {
        expect(error).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).cause).toBeInstanceOf(Error);
      }
      expect(held.some((error) => (error as UnavailableError).cause instanceof cassandra.errors.OperationTimedOutError)).toBe(true);
      proxy.release();
      await answersAgain();
    });

    it("answers UnavailableError when the connection drops with requests on it (the driver's 'Socket was closed'), then reconnects", async () => {
      await store.findUserById("1");
      proxy.hold();
      const inFlight = [store.findUserById("2"), store.findRoom("3"), store.listRevocationsSince(Date.now() - 60_000), store.revokeToken(`cut-${Date.now()}`, Date.now() + 60_000)];
      // Let the requests reach the (held) connection before it drops.
      await new Promise((resolve) => setImmediate(resolve));
      proxy.cut();
      proxy.release();
      const dropped = await outcomes(inFlight);
      for (const error of dropped) expect(error).toBeInstanceOf(UnavailableError);
      // The case that used to escape as INTERNAL: a read, not retried, failing with the bare socket error.
      const socketClosed = (error: unknown) => ((error as UnavailableError).cause as { isSocketError?: boolean }).isSocketError === true;
      expect(dropped.some(socketClosed)).toBe(true);
      await answersAgain();
    });

    it("logged each outage at warn and its end at info, nothing at error", () => {
      const outage = lines.filter((l) => l.msg.startsWith("cassandra did not answer"));
      expect(outage.length).toBeGreaterThanOrEqual(2);
      expect(outage.every((l) => l.level === 40)).toBe(true);
      expect(lines.filter((l) => l.msg === "cassandra answers again").length).toBeGreaterThanOrEqual(2);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });
} else {
  describe.skip("cassandra store when Cassandra does not answer (CASSANDRA_CONTACT_POINTS unset)", () => {
    it("runs against a real Cassandra", () => undefined);
  });
}
