/**
 * A load process: forked by the coordinator (bench/load/pool.ts), it holds up to ~15k client
 * sockets, posts when told, and reports what it received. It speaks only over the IPC channel
 * (see protocol.ts); progress goes to the coordinator every second.
 */
import type { ClientConnection, PostTarget, Transport } from "./clients/client.js";
import { bareTransport, wsTransport } from "./clients/ws.js";
import { connectTransport } from "./clients/connect-subscriber.js";
import { grpcTransport } from "./clients/grpc-subscriber.js";
import { sseTransport } from "./clients/sse.js";
import { wsMuxTransport } from "./clients/ws-mux.js";
import { connectAll } from "./connector.js";
import { runChatPoster, runIngest } from "./posters.js";
import type { LoadUser, Progress, Reply, Request, Via } from "./protocol.js";
import { Receipts } from "./receipts.js";

const TRANSPORTS: Record<Via, Transport> = {
  ws: wsTransport,
  "ws-mux": wsMuxTransport,
  grpc: grpcTransport,
  connect: connectTransport,
  sse: sseTransport,
  bare: bareTransport,
};

const receipts = new Receipts();
const connections: ClientConnection[] = [];
/** Per user id: posting over the user's own connection, where its transport can. */
const ownPost = new Map<string, (target: PostTarget, text: string) => Promise<void>>();
let users: readonly LoadUser[] = [];
let connected = 0;
let posted = 0;

function send(message: Reply | Progress): void {
  process.send?.(message);
}

const progress = setInterval(() => send({ op: "progress", connected, received: receipts.received, posted }), 1000);
progress.unref();

async function handle(request: Request): Promise<Omit<Reply, "id">> {
  switch (request.op) {
    case "connect": {
      users = request.users;
      const opened = await connectAll(request, TRANSPORTS[request.via], receipts, (n) => (connected = n));
      for (const { user, connection } of opened.connections) {
        connections.push(connection);
        if (connection.post) ownPost.set(user.id, connection.post);
      }
      return opened.result;
    }
    case "chat":
      return runChatPoster(request, users, ownPost, () => posted++);
    case "ingest":
      return runIngest(request, () => posted++);
    case "stats":
      return { op: "stats", ...receipts.stats(request.lastOf) };
    case "reset":
      receipts.reset();
      posted = 0;
      return { op: "ok" };
    case "close":
      for (const connection of connections.splice(0)) connection.close();
      setTimeout(() => process.exit(0), 200);
      return { op: "ok" };
  }
}

process.on("message", (message: Request & { id: number }) => {
  handle(message).then(
    (reply) => send({ ...reply, id: message.id } as Reply),
    (error: unknown) => send({ op: "failed", id: message.id, message: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
