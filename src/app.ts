/**
 * Builds a running Parley from a Config: adapters → services → edges, all on one port.
 * main.ts calls it for the real server, tests call it for a server on port 0.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Config } from "./config.js";
import { SnowflakeGenerator } from "./domain/ids.js";
import type { Logger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { PasetoTokens } from "./auth/tokens.js";
import { RevocationCache } from "./auth/revocations.js";
import { Hub } from "./realtime/hub.js";
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
import { createMetricsListener } from "./edges/metrics-listener.js";

export interface RunningApp {
  /** http://host:port of the listening server. */
  readonly url: string;
  readonly port: number;
  /** Graceful stop: refuse new work, end open streams, flush and close the store. */
  close(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const metrics = new Metrics();
  const { store, bus } = await createAdapters(config, logger, metrics);
  const tokens = await PasetoTokens.create({
    keyPem: config.tokenPrivateKeyPem,
    keyFile: join(config.dataDir, "token-signing-key.pem"),
    lifetimeSeconds: config.tokenLifetimeSeconds,
    onLoosened: (found) => reportLoosened(logger, found),
  });
  const ids = new SnowflakeGenerator(config.workerId);
  const hub = new Hub();
  const revocations = new RevocationCache(store);
  const users = new UserDirectory(store);
  const hashing = new HashAdmission(config.passwordHashing.concurrency, config.passwordHashing.queue, () =>
    metrics.rateLimited.inc({ limit: "password_hashing" }),
  );
  const sessions = new StreamSessions(hub, { maxPerUser: config.maxStreamsPerUser });
  await bus.start((event) => {
    if (event.type === "token_revoked") revocations.remember(event.tokenId, event.expiresAtMs);
    hub.dispatch(event);
  });

  const sharedKey = config.tokenPrivateKeyPem ?? readFileSync(join(config.dataDir, "token-signing-key.pem"), "utf8");
  const rooms = new Rooms(store, ids, new PageTokens(derivedSecret(sharedKey, "parley-page-token")));
  const tickets = new StreamTickets(derivedSecret(sharedKey, "parley-stream-ticket"));
  const services = {
    accounts: new Accounts({ store, bus, tokens, revocations, ids, tickets, hashing, users }),
    rooms,
    messages: new Messages({
      store,
      bus,
      hub,
      ids,
      rooms,
      limits: {
        replayLimit: config.replayLimit,
        queueLimit: config.streamQueueLimit,
        heartbeatMs: config.heartbeatMs,
        onOverflow: () => metrics.queueDrops.inc(),
      },
      onStored: (m) => metrics.messagesPosted.inc({ kind: m.channel.kind === "room" ? "room" : "direct" }),
    }),
  };
  metrics.readDeliveries = () => hub.deliveries;

  const edges = createEdges({ config, logger, metrics, services, sessions, tokens, revocations, tickets, users });
  const metricsListener = config.metrics && (await listenForMetrics(config.metrics, metrics, logger));
  await new Promise<void>((resolve, reject) => {
    edges.listener.tcp.once("error", reject);
    edges.listener.tcp.listen(config.port, config.host, () => resolve());
  });
  const { port } = edges.listener.tcp.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, host: config.host, store: config.store, bus: config.bus, dataDir: config.dataDir }, "parley listening");

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        edges.shutdown();
        await Promise.race([edges.listener.close(), new Promise((r) => setTimeout(r, 3000))]);
        edges.listener.destroyAll();
        metricsListener?.closeAllConnections();
        metricsListener?.close();
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
