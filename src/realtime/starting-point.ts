/**
 * Where a subscription starts: with a resume cursor, the stored messages after it (at most
 * `replayLimit`, else the newest ones and a Gap naming what was skipped); without one, the
 * channel's newest id as the position, and no replay.
 */
import type { ChatMessage } from "../domain/model.js";
import type { Frame, SubscriptionRequest } from "./subscription.js";

export interface StartingPoint {
  readonly position: string;
  readonly gap: Frame | undefined;
  /** Oldest first. */
  readonly replay: readonly ChatMessage[];
}

export async function startingPoint(request: SubscriptionRequest, replayLimit: number): Promise<StartingPoint> {
  if (!request.since) {
    const [newest] = await request.history({ limit: 1 });
    return { position: newest?.id ?? "0", gap: undefined, replay: [] };
  }
  const since = request.since;
  const page = await request.history({ after: since, limit: replayLimit + 1 });
  let gap: Frame | undefined;
  if (page.length > replayLimit) {
    page.length = replayLimit;
    gap = { kind: "gap", after: since, before: page[page.length - 1]!.id };
  }
  return { position: since, gap, replay: page.reverse() };
}
