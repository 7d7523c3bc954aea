/**
 * The one way a connect-node handler serves a subscription (SubscribeRoom, SubscribeDirectMessages,
 * WatchRooms): refused while draining, held as a stream session of the caller (the per-user
 * stream limit, revocation, expiry: realtime/stream-sessions.ts) until the client leaves.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { requireUser } from "../../auth/auth-context.js";
import type { Frame } from "../../realtime/stream-contract.js";
import type { StreamSessions } from "../../realtime/stream-sessions.js";

/** Opens the frames of a subscription, ended by `signal`. */
export type OpenFrames = (signal: AbortSignal) => Promise<AsyncGenerator<Frame>> | AsyncGenerator<Frame>;

/**
 * Runs a subscription for the caller until the client leaves, the token ends, or the node drains
 * (`draining` aborts with an UnavailableError: open streams end with it, new ones are refused).
 */
export async function* sessionStream<FrameInit>(
  sessions: StreamSessions,
  draining: AbortSignal,
  ctx: HandlerContext,
  open: OpenFrames,
  toProto: (frame: Frame) => FrameInit,
): AsyncGenerator<{ frame: FrameInit }> {
  if (draining.aborted) throw draining.reason;
  // Only streams the fast path handed back come here (and WatchRooms): one AbortSignal.any each is cheap enough.
  const session = sessions.open(requireUser(ctx), AbortSignal.any([ctx.signal, draining]));
  try {
    for await (const frame of await open(session.signal)) yield { frame: toProto(frame) };
  } finally {
    session.close();
  }
}
