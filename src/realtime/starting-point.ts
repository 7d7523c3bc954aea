/**
 * Where a subscription starts: with a resume cursor, the stored messages after it (at most
 * `replayLimit`, else the newest ones and a Gap naming what was skipped); without one, the
 * channel's newest id as the position, and no replay.
 *
 * With a log-first bus the store may not yet have what this node already handed on live
 * (recent-messages.ts). Then the position is the newer of the store's and the node's newest,
 * and a replay first waits until the node has handed on the newest message it replays — so
 * every earlier one has been handed on too — and merges in what the node handed on lately: no
 * message is missed for having been live before the stream registered, and none arrives after
 * a later one.
 */
import { compareIds } from "../domain/ids.js";
import { UnavailableError } from "../domain/errors.js";
import type { ChatMessage } from "../domain/model.js";
import type { RecentMessages } from "./recent-messages.js";
import type { Frame, SubscriptionRequest } from "./stream-contract.js";

/** Longest a resuming stream waits for this node to catch up with the store (then UNAVAILABLE). */
const CATCH_UP_MS = 5000;

export interface StartingPoint {
  readonly position: string;
  readonly gap: Frame | undefined;
  /** Oldest first. */
  readonly replay: readonly ChatMessage[];
}

export async function startingPoint(request: SubscriptionRequest, replayLimit: number, recent?: RecentMessages): Promise<StartingPoint> {
  if (!request.since) {
    const [newest] = await request.history({ limit: 1 });
    const stored = newest?.id ?? "0";
    const live = recent?.newest(request.channel);
    return { position: live !== undefined && compareIds(live, stored) > 0 ? live : stored, gap: undefined, replay: [] };
  }
  const since = request.since;
  const page = await request.history({ after: since, limit: replayLimit + 1 });
  let gap: Frame | undefined;
  if (page.length > replayLimit) {
    page.length = replayLimit;
    gap = { kind: "gap", after: since, before: page[page.length - 1]!.id };
  }
  const replay = page.reverse();
  if (!recent) return { position: since, gap, replay };
  const newestReplayed = replay.at(-1)?.id;
  if (newestReplayed !== undefined && !(await recent.reached(request.channel, newestReplayed, CATCH_UP_MS))) {
    throw new UnavailableError("this node is behind the message log; resume again (on any node)");
  }
  // After a Gap the replay is the newest messages only: merge in none from inside the gap.
  const from = gap ? replay[0]!.id : since;
  return { position: since, gap, replay: mergeById(replay, recent.after(request.channel, from)) };
}

/** Two id-ordered lists as one, each id once. */
function mergeById(a: readonly ChatMessage[], b: readonly ChatMessage[]): ChatMessage[] {
  const merged: ChatMessage[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const order = compareIds(a[i]!.id, b[j]!.id);
    if (order <= 0) merged.push(a[i++]!);
    else merged.push(b[j++]!);
    if (order === 0) j++;
  }
  return merged.concat(a.slice(i), b.slice(j));
}
