/**
 * Ties each open stream to the token that opened it: the stream's signal aborts when the client
 * leaves, when the token expires, or when the token is revoked (on any node, via the bus) —
 * the last two with UnauthenticatedError as the reason, which the edges send to the client.
 *
 * A session is one object and one AbortController: revocation reaches it through the hub, expiry
 * through one shared ExpiryClock, so an idle stream holds no timer and no closure of its own.
 */
import { UnauthenticatedError } from "../domain/errors.js";
import type { TokenClaims } from "../auth/tokens.js";
import { type Expiring, ExpiryClock } from "./expiry-clock.js";
import type { Hub, Revocable } from "./hub.js";

export interface StreamSession {
  /** Aborts when the stream must end; `reason` says why. */
  readonly signal: AbortSignal;
  /** Ends the stream now: the signal aborts with `reason` (default: an AbortError), unless it already has. */
  abort(reason?: unknown): void;
  /** Releases the session's deadline and registration; call in `finally`. Idempotent. */
  close(): void;
}

export class StreamSessions {
  readonly #clock = new ExpiryClock();

  constructor(private readonly hub: Hub) {}

  /**
   * A session for a stream opened with `caller`'s token. With `clientSignal`, its abort (the
   * client left, the server is stopping) aborts the session with the same reason; without one,
   * the caller ends the session itself with abort() or close().
   */
  open(caller: TokenClaims, clientSignal?: AbortSignal): StreamSession {
    return new Session(this.hub, this.#clock, caller, clientSignal);
  }
}

class Session implements StreamSession, Revocable, Expiring {
  readonly #controller = new AbortController();
  readonly signal = this.#controller.signal;
  readonly expiresAtMs: number;
  clockSlot = -1;
  readonly #tokenId: string;
  readonly #clientSignal: AbortSignal | undefined;
  readonly #onClientAbort: (() => void) | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly clock: ExpiryClock,
    caller: TokenClaims,
    clientSignal: AbortSignal | undefined,
  ) {
    this.#tokenId = caller.tokenId;
    this.expiresAtMs = caller.expiresAtMs;
    if (clientSignal?.aborted) this.abort(clientSignal.reason);
    else if (clientSignal) {
      this.#clientSignal = clientSignal;
      // Assigned, not declared as a class field: a named per-session closure costs ~250 bytes more.
      this.#onClientAbort = () => this.abort(clientSignal.reason);
      clientSignal.addEventListener("abort", this.#onClientAbort, { once: true });
    }
    hub.trackSession(this.#tokenId, this);
    clock.add(this);
  }

  abort(reason?: unknown): void {
    if (!this.signal.aborted) this.#controller.abort(reason);
  }

  /** The hub's call when the token is revoked. */
  revoke(): void {
    this.abort(new UnauthenticatedError("signed out: this token was revoked"));
  }

  /** The clock's call when the token's lifetime is over. */
  expire(): void {
    this.abort(new UnauthenticatedError("token expired: sign in again"));
  }

  close(): void {
    this.clock.remove(this);
    this.hub.untrackSession(this.#tokenId, this);
    if (this.#onClientAbort) this.#clientSignal?.removeEventListener("abort", this.#onClientAbort);
  }
}
