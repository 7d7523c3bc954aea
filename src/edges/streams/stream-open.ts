/**
 * Opening a realtime stream for the transports that serve streams themselves (SSE, WebSocket,
 * the RPC fast path): admission (edges/admission/admission.ts — the same steps, in the same order, as the
 * interceptors run), validation (protovalidate, rules from the proto), then the subscription
 * itself. Every refusal happens before the first byte of a stream, so it can still be answered
 * with an HTTP status.
 */
import type { IncomingMessage } from "node:http";
import type { Message } from "@bufbuild/protobuf";
import type { Validator } from "@bufbuild/protovalidate";
import type { TokenClaims } from "../../auth/tokens.js";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../../domain/errors.js";
import type { Frame } from "../../realtime/stream-contract.js";
import type { StreamSession, StreamSessions } from "../../realtime/stream-sessions.js";
import type { Messages } from "../../services/messages.js";
import type { Rooms } from "../../services/rooms.js";
import type { Admission } from "../admission/admission.js";
import { findCredentials } from "../http/credentials.js";
import type { Credentials } from "../http/credentials.js";
import type { StreamTickets } from "../../auth/stream-tickets.js";

/** What a stream delivers: one room's messages, the caller's direct messages, or the room list (WatchRooms). */
export type StreamTarget =
  | { readonly kind: "room"; readonly roomId: string; readonly presence?: boolean }
  | { readonly kind: "direct" }
  | { readonly kind: "rooms" };

/** The checks and the subscription source a stream opener uses. */
export interface StreamOpenerDeps {
  readonly admission: Admission;
  readonly sessions: StreamSessions;
  readonly messages: Messages;
  readonly rooms: Rooms;
  readonly validator: Validator;
  readonly tickets: StreamTickets;
}

/** An authenticated caller of a stream request. */
export interface StreamCaller {
  readonly claims: TokenClaims;
  readonly credentials: Credentials;
}

/** A subscription that has produced its Ready frame. */
export interface OpenStream {
  readonly target: StreamTarget;
  /** The subscriber (for logs). */
  readonly userId: string;
  /** The Ready frame, already taken from `frames`. */
  readonly ready: Frame;
  /** The frames after Ready (replay, gap, live messages, heartbeats) until `signal` aborts. */
  readonly frames: AsyncGenerator<Frame>;
  /** Aborts when the stream must end: the client left, the server is stopping (reason: AbortError), or the token was revoked or expired (reason: UnauthenticatedError). */
  readonly signal: AbortSignal;
  /** Ends the subscription and releases its session (the signal aborts, as a plain stop). Idempotent; call in `finally`. */
  close(): void;
}

/** Authenticates, validates and opens streams, the same way for SSE, WebSocket and the RPC fast path. */
export class StreamOpener {
  constructor(private readonly deps: StreamOpenerDeps) {}

  /**
   * Admission for a browser stream (SSE, WebSocket): credentials from the Authorization header,
   * the session cookie or a ?ticket= (redeemed only once the flood ceiling let the request
   * through). Throws the error to answer with.
   */
  async authenticate(req: IncomingMessage, query: URLSearchParams, ip: string): Promise<StreamCaller> {
    let credentials: Credentials | undefined;
    const { caller } = await this.deps.admission.admit({
      ip,
      authorization: async () => {
        credentials = await findCredentials(req, query, this.deps.tickets);
        if (!credentials) throw new UnauthenticatedError("sign in first: send Authorization: Bearer <token>, the session cookie, or ?ticket=");
        return credentials.authorization;
      },
    });
    return { claims: caller!, credentials: credentials! };
  }

  /**
   * Admission for a Connect/gRPC subscribe request, which — as the interceptors read it —
   * authenticates with its Authorization header only (no ticket, no cookie).
   */
  async authenticateHeader(procedure: string, authorization: string | undefined, ip: string): Promise<StreamCaller> {
    const { caller } = await this.deps.admission.admit({ procedure, ip, authorization: () => authorization ?? null });
    return { claims: caller!, credentials: { authorization: authorization ?? "", source: "header" } };
  }

  /** A further stream for a caller already admitted on this connection (a subscribe frame on /ws). */
  admitAgain(caller: StreamCaller, ip: string): Promise<void> {
    return this.deps.admission.admitAgain(caller.claims, ip);
  }

  /** Checks a subscribe request message against the proto's rules; throws InvalidArgumentError. */
  validate(schema: Parameters<Validator["validate"]>[0], message: Message): void {
    const result = this.deps.validator.validate(schema, message);
    if (result.kind === "invalid") throw new InvalidArgumentError(result.error.message);
    if (result.kind === "error") throw result.error;
  }

  /**
   * Subscribes and waits for Ready. Throws NotFoundError for a missing room, and
   * ResourceExhaustedError when the caller already holds as many streams as a user may
   * (stream-sessions.ts) — both before anything is sent. `clientSignal` ends the stream when the client leaves or the server stops; without
   * it, the caller ends the stream with close().
   */
  async open(caller: StreamCaller, target: StreamTarget, since: string, clientSignal?: AbortSignal): Promise<OpenStream> {
    const session = this.deps.sessions.open(caller.claims, clientSignal);
    let frames: AsyncGenerator<Frame> | undefined;
    try {
      frames =
        target.kind === "room"
          ? await this.deps.messages.subscribeRoom(caller.claims, target.roomId, { since, presence: target.presence === true }, session.signal)
          : target.kind === "rooms"
            ? this.deps.rooms.watch(since, session.signal)
            : this.deps.messages.subscribeDirect(caller.claims, since, session.signal);
      const first = await frames.next();
      if (first.done) throw session.signal.reason instanceof UnauthenticatedError ? session.signal.reason : new UnavailableError("the stream ended before it started");
      return new Opened(target, caller.claims.userId, first.value, frames, session);
    } catch (error) {
      endStream(session, frames);
      throw error;
    }
  }
}

/** An open stream: one object, its close() shared by all (no per-stream closure). */
class Opened implements OpenStream {
  readonly signal: AbortSignal;
  #closed = false;

  constructor(
    readonly target: StreamTarget,
    readonly userId: string,
    readonly ready: Frame,
    readonly frames: AsyncGenerator<Frame>,
    private readonly session: StreamSession,
  ) {
    this.signal = session.signal;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    endStream(this.session, this.frames);
  }
}

function endStream(session: StreamSession, frames: AsyncGenerator<Frame> | undefined): void {
  session.abort();
  session.close();
  // Queued behind any pending next(): ends the subscription and unregisters it from the hub.
  frames?.return(undefined).catch(() => undefined);
}
