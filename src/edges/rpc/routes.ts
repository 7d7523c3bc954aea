/** The Connect router: the three chat.v1 services, health and reflection, with their interceptors. */
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { AuthService } from "../../../gen/chat/v1/auth_pb.js";
import { MessageService } from "../../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../../gen/chat/v1/room_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import type { Accounts } from "../../services/accounts.js";
import type { Messages } from "../../services/messages.js";
import type { Rooms } from "../../services/rooms.js";
import type { StreamSessions } from "../../realtime/stream-sessions.js";
import { type HealthStatus, registerHealth } from "../ops/health.js";
import { registerReflection } from "../ops/reflection.js";
import { authHandlers } from "./auth-handlers.js";
import { messageHandlers } from "./message-handlers.js";
import { roomHandlers } from "./room-handlers.js";

export const CHAT_SERVICES = [AuthService, RoomService, MessageService] as const;

export interface RouteDeps {
  readonly services: { readonly accounts: Accounts; readonly rooms: Rooms; readonly messages: Messages };
  readonly sessions: StreamSessions;
  readonly health: HealthStatus;
  /** Aborts (reason: UnavailableError) when the node starts to drain: subscribe streams end and are refused. */
  readonly draining: AbortSignal;
}

export function chatRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AuthService, authHandlers(deps.services.accounts));
    router.service(RoomService, roomHandlers(deps.services.rooms, deps.services.messages.reads, deps.sessions, deps.draining));
    router.service(MessageService, messageHandlers(deps.services.messages, deps.sessions, deps.draining));
    registerHealth(router, deps.health);
    registerReflection(router, [...CHAT_SERVICES, Health]);
  };
}

/**
 * Order matters: observe (log, metrics, error mapping) → admission (limits and authentication,
 * edges/admission/admission.ts) → validation → handler.
 */
export function chatInterceptors(parts: { observe: Interceptor; admission: Interceptor }): Interceptor[] {
  return [parts.observe, parts.admission, createValidateInterceptor()];
}
