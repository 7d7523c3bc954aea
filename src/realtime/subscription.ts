/**
 * One subscription to a channel, the same for every edge (Connect streams, SSE, WebSocket):
 *
 *   1. register live interest with the hub first (so nothing published from now on is missed);
 *   2. send Ready{position};
 *   3. with `since`: replay every stored message after it, oldest first — at most `replayLimit`;
 *      past that, a Gap names what was skipped (the client pages it with List);
 *   4. switch to live, dropping what the replay already sent and anything at or before the
 *      position (de-duplicated by id);
 *   5. heartbeat when idle; stop on abort; end with ResourceExhaustedError when the client reads
 *      too slowly for the bounded queue.
 *
 * A user's direct-message stream also carries their read frames (hub.ts): live only, in the
 * order the hub dispatched them among the messages, never replayed, never moving the position.
 *
 * Each message is delivered once, in id order for the replay and in bus order (= id order on
 * one node) for live delivery, with no gap between the two.
 */
import type { Hub } from "./hub.js";
import { LiveStream } from "./live-stream.js";
import type { Frame, SubscriptionLimits, SubscriptionRequest } from "./stream-contract.js";

export type { Frame, SubscriptionLimits, SubscriptionRequest } from "./stream-contract.js";

/**
 * The frames of one subscription until the signal aborts or the client falls behind: Ready,
 * then (with `since`) the replay or a Gap, then live messages and idle heartbeats. Nothing is
 * registered until the first next(); return() or the end of the stream unregisters it. Per live
 * message and subscriber the hot path is one resolved promise — or, for a consumer that keeps up
 * and asks to be pushed (frame-receiver.ts), one synchronous call — with no timer, no generator,
 * no id bookkeeping once the replay is over (see live-stream.ts).
 */
export function subscribe(hub: Hub, limits: SubscriptionLimits, request: SubscriptionRequest): AsyncGenerator<Frame> {
  return new LiveStream(hub, limits, request);
}
