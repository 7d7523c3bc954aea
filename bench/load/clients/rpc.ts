/**
 * A connect-node gRPC client (h2c) for the posters: one HTTP/2 connection per client, leaving
 * from a given source address. Subscribers do not use it: they are the lean clients of
 * grpc-subscriber.ts and connect-subscriber.ts, which read only what the bench measures.
 */
import { connect } from "node:net";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../../../gen/chat/v1/message_pb.js";
import type { Target } from "../protocol.js";

type Messages = Client<typeof MessageService>;

/** A gRPC client whose one HTTP/2 connection leaves from `localAddress`. */
export function grpcMessages(target: Target, localAddress: string): Messages {
  const transport = createGrpcTransport({
    baseUrl: `http://${target.host}:${target.port}`,
    nodeOptions: { createConnection: () => connect({ host: target.host, port: target.port, localAddress, noDelay: true }) },
    // Posters may idle between posts; keep the connection without pinging.
    idleConnectionTimeoutMs: 3_600_000,
  });
  return createClient(MessageService, transport);
}
