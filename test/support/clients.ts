/** Connect-protocol clients for the chat.v1 services, over HTTP/1.1 JSON, gRPC (h2c) or gRPC-Web. */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { connect } from "node:net";
import { nextLoopbackAddress } from "./loopback.js";

export type Protocol = "connect-json" | "grpc" | "grpc-web";

export interface ChatClients {
  readonly auth: Client<typeof AuthService>;
  readonly rooms: Client<typeof RoomService>;
  readonly messages: Client<typeof MessageService>;
}

/**
 * Clients that send `Authorization: Bearer <token>` when a token is given; `from` is the loopback
 * address their connections come from (default: the system's choice, 127.0.0.1).
 */
export function chatClients(baseUrl: string, token?: string, protocol: Protocol = "connect-json", from?: string): ChatClients {
  const auth: Interceptor = (next) => (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const options = { baseUrl, interceptors: [auth] };
  const h1 = from === undefined ? {} : { nodeOptions: { localAddress: from } };
  const h2 =
    from === undefined
      ? {}
      : { nodeOptions: { createConnection: (authority: URL) => connect({ host: authority.hostname, port: Number(authority.port), localAddress: from }) } };
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ ...options, ...h2 })
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ ...options, ...h1, httpVersion: "1.1" })
        : createConnectTransport({ ...options, ...h1, httpVersion: "1.1", useBinaryFormat: false });
  return {
    auth: createClient(AuthService, transport),
    rooms: createClient(RoomService, transport),
    messages: createClient(MessageService, transport),
  };
}

let counter = 0;
/** A fresh unique username per call. */
export function uniqueName(prefix = "user"): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
}

/**
 * Signs a new user up and in; returns the token, the user and clients bound to the token. Each
 * user signs up from a loopback address of its own, as users of a real node come from theirs:
 * a test's users do not share one address's sign-in budget (DESIGN.md, "Sign-in, rate limits").
 */
export async function newUser(baseUrl: string, protocol: Protocol = "connect-json", name = uniqueName()) {
  const anon = chatClients(baseUrl, undefined, protocol, nextLoopbackAddress());
  const password = "correct horse battery";
  await anon.auth.signUp({ username: name, password });
  const signedIn = await anon.auth.signIn({ username: name, password });
  return { token: signedIn.accessToken, user: signedIn.user!, password, clients: chatClients(baseUrl, signedIn.accessToken, protocol) };
}
