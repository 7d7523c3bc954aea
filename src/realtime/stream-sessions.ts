/**
 * Ties each open stream to the token that opened it: the stream's signal aborts when the client
 * leaves, when the token expires, or when the token is revoked (on any node, via the bus) —
 * the last two with UnauthenticatedError as the reason, which the edges send to the client.
 */
import { UnauthenticatedError } from "../domain/errors.js";
import type { TokenClaims } from "../auth/tokens.js";
import type { Hub } from "./hub.js";

export interface StreamSession {
  /** Aborts when the stream must end; `reason` says why. */
  readonly signal: AbortSignal;
  /** Releases the session's timer and registration; call in `finally`. */
  close(): void;
}

export class StreamSessions {
  constructor(private readonly hub: Hub) {}

  open(caller: TokenClaims, clientSignal: AbortSignal): StreamSession {
    const controller = new AbortController();
    const abortFromClient = () => controller.abort(clientSignal.reason);
    if (clientSignal.aborted) abortFromClient();
    else clientSignal.addEventListener("abort", abortFromClient, { once: true });
    const untrack = this.hub.trackSession(caller.tokenId, () =>
      controller.abort(new UnauthenticatedError("signed out: this token was revoked")),
    );
    const remaining = Math.max(0, caller.expiresAtMs - Date.now());
    // setTimeout cannot wait more than ~24.8 days; tokens never live that long.
    const expiry = setTimeout(() => controller.abort(new UnauthenticatedError("token expired: sign in again")), Math.min(remaining, 2 ** 31 - 1));
    return {
      signal: controller.signal,
      close: () => {
        clearTimeout(expiry);
        untrack();
        clientSignal.removeEventListener("abort", abortFromClient);
      },
    };
  }
}
