/**
 * Opens the subscriptions of many users with a bounded number of attempts in flight, spreading
 * client sockets over the given source addresses (each loopback address has its own ~28k
 * ephemeral ports). Resolves when every attempt has either become ready or failed. With
 * `spreadMs` (join-storm) the attempts start at an even pace over that time instead, each no
 * earlier than its slot, so the server sees a steady stream of joins rather than a burst.
 */
import { Histogram } from "../histogram.js";
import type { ClientConnection, Transport } from "./clients/client.js";
import type { ConnectRequest, ConnectResult, LoadUser } from "./protocol.js";
import type { Receipts } from "./receipts.js";

export interface Opened {
  readonly user: LoadUser;
  readonly connection: ClientConnection;
}

export interface OpenedSet {
  readonly result: ConnectResult;
  readonly connections: Opened[];
}

export async function connectAll(
  request: ConnectRequest,
  transport: Transport,
  receipts: Receipts,
  onProgress: (connected: number) => void,
): Promise<OpenedSet> {
  const channels = [...(request.room ? (["room"] as const) : []), ...(request.dm ? (["dm"] as const) : [])];
  // One job per connection: all of a user's channels together when the transport multiplexes.
  const jobs = request.users.flatMap((user) =>
    transport.multiplexes ? [{ user, channels }] : channels.map((channel) => ({ user, channels: [channel] })),
  );
  const connections: Opened[] = [];
  let next = 0;
  let subscriptions = 0;
  let failed = 0;
  const openLatency = new Histogram();
  const slotMs = request.spreadMs === undefined || jobs.length === 0 ? 0 : request.spreadMs / jobs.length;
  const started = performance.now();
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const localAddress = request.localAddresses[index % request.localAddresses.length]!;
      const waitMs = started + index * slotMs - performance.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const attempt = performance.now();
      receipts.attempting(job.user.id);
      try {
        const connection = await transport.open({
          target: request.target,
          user: job.user,
          channels: job.channels,
          localAddress,
          receipts,
          presence: request.presence,
          // The first connection of each process sees every later join in it: it times presence frames.
          observer: request.presence && index === 0,
        });
        openLatency.record((performance.now() - attempt) * 1000);
        connections.push({ user: job.user, connection });
        subscriptions += connection.streams;
        onProgress(subscriptions);
      } catch (error) {
        failed += job.channels.length;
        receipts.error("connect_failed", error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, worker));
  return {
    connections,
    result: { op: "connect", subscriptions, failed, elapsedMs: performance.now() - started, openLatency: openLatency.toData() },
  };
}
