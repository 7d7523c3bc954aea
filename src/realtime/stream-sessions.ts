/**
 * Ties each open stream to the token that opened it: the stream's signal aborts when the client
 * leaves, when the token expires, or when the token is revoked (on any node, via the bus) —
 * the last two with UnauthenticatedError as the reason, which the edges send to the client.
 *
 * A session is one object and one AbortController: revocation reaches it through the hub, expiry
 * through one shared ExpiryClock, so an idle stream holds no timer and no closure of its own.
 *
 * Opening a session is also where a stream is admitted, whatever its edge (SSE, WebSocket, the
 * RPC fast path, connect-node): a user holds at most `maxPerUser` stream sessions on this process,
 * and beyond that open() throws ResourceExhaustedError — before anything of the stream exists.
 */
import { ResourceExhaustedError, UnauthenticatedError } from "../domain/errors.js";
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

/** Limits of stream sessions. */
export interface StreamSessionLimits {
  /** Most streams one user may hold open at once on this process (default: no limit). */
  readonly maxPerUser?: number;
}

export class StreamSessions {
  /** The clock and (constructor) hub every session registers with; the sessions' own business. */
  readonly clock = new ExpiryClock();
  /** Open counted sessions per user id; a user with none has no entry. */
  readonly #perUser = new Map<string, number>();
  readonly #maxPerUser: number;

  constructor(
    readonly hub: Hub,
    limits: StreamSessionLimits = {},
  ) {
    this.#maxPerUser = limits.maxPerUser ?? Infinity;
  }

  /**
   * A session for a stream opened with `caller`'s token. With `clientSignal`, its abort (the
   * client left, the server is stopping) aborts the session with the same reason; without one,
   * the caller ends the session itself with abort() or close(). Throws ResourceExhaustedError
   * when the user already holds `maxPerUser` streams; close() gives the place back.
   */
  open(caller: TokenClaims, clientSignal?: AbortSignal): StreamSession {
    const held = this.#perUser.get(caller.userId) ?? 0;
    if (held >= this.#maxPerUser) {
      throw new ResourceExhaustedError(`too many open streams: at most ${this.#maxPerUser} per user on this server; close one before opening another`);
    }
    this.#perUser.set(caller.userId, held + 1);
    return new Session(this, caller, clientSignal, true);
  }

  /**
   * A session for a connection that carries streams but is not one (the multiplexed /ws socket):
   * it ends with its token as a stream does, and does not count toward the per-user limit —
   * its subscriptions do, each through open().
   */
  openCarrier(caller: TokenClaims, clientSignal?: AbortSignal): StreamSession {
    return new Session(this, caller, clientSignal, false);
  }

  /** Streams `userId` holds open (for tests and metrics). */
  openBy(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }

  /** A counted session closed: its user's place is free again. */
  release(userId: string): void {
    const held = this.#perUser.get(userId);
    if (held === undefined) return;
    if (held <= 1) this.#perUser.delete(userId);
    else this.#perUser.set(userId, held - 1);
  }
}

class Session implements StreamSession, Revocable, Expiring {
  readonly #controller = new AbortController();
  readonly signal = this.#controller.signal;
  readonly expiresAtMs: number;
  clockSlot = -1;
  readonly #tokenId: string;
  /** The user whose count this session holds until close(); undefined when uncounted or closed. */
  #countedFor: string | undefined;
  readonly #clientSignal: AbortSignal | undefined;
  readonly #onClientAbort: (() => void) | undefined;

  constructor(
    private readonly owner: StreamSessions,
    caller: TokenClaims,
    clientSignal: AbortSignal | undefined,
    counted: boolean,
  ) {
    this.#tokenId = caller.tokenId;
    this.#countedFor = counted ? caller.userId : undefined;
    this.expiresAtMs = caller.expiresAtMs;
    if (clientSignal?.aborted) this.abort(clientSignal.reason);
    else if (clientSignal) {
      this.#clientSignal = clientSignal;
      // Assigned, not declared as a class field: a named per-session closure costs ~250 bytes more.
      this.#onClientAbort = () => this.abort(clientSignal.reason);
      clientSignal.addEventListener("abort", this.#onClientAbort, { once: true });
    }
    owner.hub.trackSession(this.#tokenId, this);
    owner.clock.add(this);
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
    this.owner.clock.remove(this);
    this.owner.hub.untrackSession(this.#tokenId, this);
    if (this.#countedFor !== undefined) {
      this.owner.release(this.#countedFor);
      this.#countedFor = undefined;
    }
    if (this.#onClientAbort) this.#clientSignal?.removeEventListener("abort", this.#onClientAbort);
  }
}
