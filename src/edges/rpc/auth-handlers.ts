/** chat.v1.AuthService over Connect, gRPC and gRPC-Web: thin, all logic in services/accounts. */
import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { AuthService } from "../../../gen/chat/v1/auth_pb.js";
import { requireBearerToken, requireUser } from "../../auth/auth-context.js";
import type { Accounts } from "../../services/accounts.js";
import { userToProto } from "./to-proto.js";

export function authHandlers(accounts: Accounts): ServiceImpl<typeof AuthService> {
  return {
    async signUp(req) {
      return { user: userToProto(await accounts.signUp(req.username, req.password)) };
    },
    async signIn(req) {
      const { token, claims, user } = await accounts.signIn(req.username, req.password);
      return { accessToken: token, expiresAt: timestampFromMs(claims.expiresAtMs), user: userToProto(user) };
    },
    async signOut(_req, ctx) {
      await accounts.signOut(requireUser(ctx));
      return {};
    },
    async createStreamTicket(_req, ctx) {
      const { ticket, expiresAtMs } = accounts.streamTicket(requireBearerToken(ctx));
      return { ticket, expiresAt: timestampFromMs(expiresAtMs) };
    },
    async getMe(_req, ctx) {
      return { user: userToProto(await accounts.me(requireUser(ctx))) };
    },
  };
}
