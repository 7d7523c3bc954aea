/** Connect-protocol clients for the chat.v1 services, over HTTP/1.1 JSON, gRPC (h2c) or gRPC-Web. */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";

export type Protocol = "connect-json" | "grpc" | "grpc-web";

export interface ChatClients {
  readonly auth: Client<typeof AuthService>;
  readonly rooms: Client<typeof RoomService>;
  readonly messages: Client<typeof MessageService>;
}

/** Clients that send `Authorization: Bearer <token>` when a token is given. */
export function chatClients(baseUrl: string, token?: string, protocol: Protocol = "connect-json"): ChatClients {
  const auth: Interceptor = (next) => (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const options = { baseUrl, interceptors: [auth] };
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ ...options })
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ ...options, httpVersion: "1.1" })
        : createConnectTransport({ ...options, httpVersion: "1.1", useBinaryFormat: false });
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

/** Signs a new user up and in; returns the token, the user and clients bound to the token. */
export async function newUser(baseUrl: string, protocol: Protocol = "connect-json", name = uniqueName()) {
  const anon = chatClients(baseUrl, undefined, protocol);
  const password = "correct horse battery";
  await anon.auth.signUp({ username: name, password });
  const signedIn = await anon.auth.signIn({ username: name, password });
  return { token: signedIn.accessToken, user: signedIn.user!, password, clients: chatClients(baseUrl, signedIn.accessToken, protocol) };
}
