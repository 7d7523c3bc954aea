/**
 * Builds a running Parley from a Config: adapters → services → edges, all on one port.
 * main.ts calls it for the real server, tests call it for a server on port 0.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Config } from "./config.js";
import { SnowflakeGenerator } from "./domain/ids.js";
import type { Logger } from "./observability/logger.js";
import { Metrics, countPosted } from "./observability/metrics.js";
import { joinNodeMetrics } from "./cluster/node-metrics.js";
import { PasetoTokens } from "./auth/tokens.js";
import { RevocationCache } from "./auth/revocations.js";
import { RevocationSweep } from "./auth/revocation-sweep.js";
import { Hub } from "./realtime/hub.js";
import { Presence } from "./realtime/presence.js";
import { RecentMessages } from "./realtime/recent-messages.js";
import { StreamSessions } from "./realtime/stream-sessions.js";
import { Accounts } from "./services/accounts.js";
import { Rooms } from "./services/rooms.js";
import { Messages } from "./services/messages.js";
import { PageTokens } from "./services/page-tokens.js";
import { StreamTickets } from "./auth/stream-tickets.js";
import { HashAdmission } from "./auth/hash-admission.js";
import { UserDirectory } from "./auth/user-directory.js";
import { createAdapters } from "./adapters.js";
import { reportLoosened } from "./private-files.js";
import { createEdges } from "./edges/edges.js";
import { createMetricsListener } from "./edges/ops/metrics-listener.js";
import { listenFailure } from "./startup-error.js";

export interface RunningApp {
  /** http://host:port of the listening server. */
  readonly url: string;
  readonly port: number;
  /**
   * Graceful stop: drain (health NOT_SERVING, open streams ended with UNAVAILABLE, new streams
   * refused, unary calls still answered) for the configured grace period, then close the port,
   * end what is left, flush and close the store. Idempotent.
   */
  close(): Promise<void>;
  /** Ends the grace period of a close() now (a second stop signal); before close(), makes it skip the grace. */
  hurry(): void;
}

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const metrics = new Metrics(String(config.workerId));
  // A worker of a multi-process node answers /metrics for the whole node (node-metrics.ts).
  if (config.workers > 1) joinNodeMetrics(metrics);
  const { store, bus, rateBuckets } = await createAdapters(config, logger, metrics);
  const tokens = await PasetoTokens.create({
    keyPem: config.tokenPrivateKeyPem,
    keyFile: join(config.dataDir, "token-signing-key.pem"),
    lifetimeSeconds: config.tokenLifetimeSeconds,
    onLoosened: (found) => reportLoosened(logger, found),
  });
  const ids = new SnowflakeGenerator(config.workerId);
  // A log-first bus hands messages on before the store has them: streams merge in what was handed on lately.
  // Who has which room open, on every node: reports on the bus (realtime/presence.ts).
  const presence = new Presence({
    publish: (report) => bus.publish({ type: "presence", report }),
    onUnpublished: (error) => logger.debug({ err: error }, "presence report not published on the bus: other processes ask for a reset"),
  });
  const hub = new Hub(bus.log ? new RecentMessages() : undefined, presence);
  const revocations = new RevocationCache(store, hub);
  const users = new UserDirectory(store);
  const hashing = new HashAdmission(config.passwordHashing.concurrency, config.passwordHashing.queue, () =>
    metrics.rateLimited.inc({ limit: "password_hashing" }),
  );
  const sessions = new StreamSessions(hub, { maxPerUser: config.maxStreamsPerUser });
  await bus.start((event) => {
    // A revocation goes to the one place that acts on it (it ends the token's streams too).
    if (event.type === "token_revoked") revocations.remember(event.tokenId, event.expiresAtMs);
    else hub.dispatch(event);
  });
  presence.start();
  // Revocations the bus did not bring (it was down) still end their streams here, from the store.
  const sweep = new RevocationSweep(store, revocations, { intervalMs: config.revocationSweepMs, logger });
  sweep.start();

  const sharedKey = config.tokenPrivateKeyPem ?? readFileSync(join(config.dataDir, "token-signing-key.pem"), "utf8");
  const streamLimits = {
    replayLimit: config.replayLimit,
    queueLimit: config.streamQueueLimit,
    heartbeatMs: config.heartbeatMs,
    onOverflow: () => metrics.queueDrops.inc(),
  };
  const rooms = new Rooms(store, ids, new PageTokens(derivedSecret(sharedKey, "parley-page-token")), presence, {
    bus,
    hub,
    limits: streamLimits,
    onUnpublished: (error) => logger.warn({ err: error }, "room stored, but not published on the bus: room-list watchers get it when they resume"),
  });
  const tickets = new StreamTickets(derivedSecret(sharedKey, "parley-stream-ticket"), (nonce, expiresAtMs) => store.redeemOnce(nonce, expiresAtMs));
  const services = {
    accounts: new Accounts({
      store,
      bus,
      tokens,
      revocations,
      ids,
      tickets,
      hashing,
      users,
      onRevocationUnpublished: (error) => logger.warn({ err: error }, "sign-out stored, but not published on the bus: other nodes end its streams at their next revocation sweep"),
    }),
    rooms,
    messages: new Messages({
      store,
      bus,
      hub,
      ids,
      rooms,
      limits: streamLimits,
      // Counted where messages are stored: here, or in the primary when it is the node's writer.
      onStored: config.sequencedAppends ? undefined : (m) => countPosted(metrics, m),
      onRecordFailed: (error) => logger.warn({ err: error }, "could not record a message the log holds; the store writer will"),
      onReadUnpublished: (error) => logger.warn({ err: error }, "read marker stored, but not published on the bus: the user's other sessions see it at their next List"),
      onTypingUnpublished: (error) => logger.warn({ err: error }, "typing indicator not published on the bus: that frame is lost"),
    }),
  };
  metrics.readDeliveries = () => hub.deliveries;

  const edges = createEdges({ config, logger, metrics, services, sessions, tokens, revocations, tickets, users, rateBuckets });
  await new Promise<void>((resolve, reject) => {
    edges.listener.tcp.once("error", (error) => reject(listenFailure(error, config)));
    edges.listener.tcp.listen(config.port, config.host, () => resolve());
  });
  // After the node's port: a cluster primary takes a worker's first listening address as the node's.
  const metricsListener = config.metrics && (await listenForMetrics(config.metrics, metrics, logger));
  const { port } = edges.listener.tcp.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, host: config.host, store: config.store, bus: config.bus, dataDir: config.dataDir }, "parley listening");

  let closing: Promise<void> | undefined;
  const graceOver = new AbortController();
  return {
    url: `http://${host}:${port}`,
    port,
    hurry: () => graceOver.abort(),
    close: () =>
      (closing ??= (async () => {
        edges.drain();
        if (config.shutdownGraceMs > 0 && !graceOver.signal.aborted) {
          logger.info({ graceSeconds: config.shutdownGraceMs / 1000 }, "draining: NOT_SERVING, streams told to reconnect elsewhere (a second signal stops now)");
          await sleep(config.shutdownGraceMs, undefined, { signal: graceOver.signal }).catch(() => undefined);
        }
        edges.shutdown();
        await Promise.race([edges.listener.close(), new Promise((r) => setTimeout(r, 3000))]);
        edges.listener.destroyAll();
        metricsListener?.closeAllConnections();
        metricsListener?.close();
        await sweep.stop();
        // Everyone this process reported leaves at once on the other nodes, not after PRESENCE_TTL.
        await presence.stop();
        await bus.close();
        await store.close();
        logger.info("parley stopped");
      })()),
  };
}

/** The metrics' own listener (METRICS_PORT), listening; logs where. */
async function listenForMetrics(where: { port: number; host: string }, metrics: Metrics, logger: Logger): Promise<Server> {
  const server = createMetricsListener(metrics, logger);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(where.port, where.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ metricsPort: port, host: where.host }, "metrics listening");
  return server;
}

/**
 * Page tokens and stream tickets must verify on every node and across restarts: their keys derive
 * from the token signing key every node shares, one key per purpose.
 */
function derivedSecret(tokenKeyPem: string, purpose: string): Buffer {
  return createHash("sha256").update(`${purpose}:`).update(tokenKeyPem).digest();
}
