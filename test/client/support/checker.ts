/**
 * The checker: compares what an app saw with what the server acknowledged and stored. A
 * subscriber must see every message of its channel after its starting position exactly once, in
 * the server's order — the acknowledged posts, and any post the server stored although its
 * answer was lost.
 */
import { compareIds, type Message, type ParleyClient } from "@parley/client";

/** Every message of a room, oldest first (paged through the List RPC). */
export async function storedMessages(client: ParleyClient, roomId: string): Promise<Message[]> {
  const newestFirst: Message[] = [];
  for (let before = ""; ; ) {
    const page = await client.listMessages(roomId, { before, pageSize: 1000 });
    newestFirst.push(...page);
    const oldest = page.at(-1);
    if (page.length < 1000 || !oldest) break;
    before = oldest.messageId;
  }
  return newestFirst.reverse();
}

export interface History {
  /** Message ids in the order the app was handed them. */
  readonly seen: readonly string[];
  /** Ids of the posts whose answer said "stored". */
  readonly acked: readonly string[];
  /** Every message the server stored in the channel, oldest first. */
  readonly stored: readonly string[];
  /** The position the subscription started after: its `since`, or the first Ready's position. */
  readonly from: string;
}

/** Problems found, as sentences; empty when the history keeps the guarantee. */
export function check(history: History): string[] {
  const problems: string[] = [];
  const seenOnce = new Set<string>();
  history.seen.forEach((id, i) => {
    if (seenOnce.has(id)) problems.push(`message ${id} delivered twice (at ${i})`);
    seenOnce.add(id);
    const previous = history.seen[i - 1];
    if (previous !== undefined && compareIds(previous, id) >= 0) problems.push(`message ${id} delivered after ${previous} (at ${i}): out of order`);
  });
  const lost = history.acked.filter((id) => compareIds(id, history.from) > 0 && !seenOnce.has(id));
  if (lost.length > 0) problems.push(`${lost.length} acknowledged messages never delivered: ${lost.slice(0, 5).join(", ")}…`);
  const expected = history.stored.filter((id) => compareIds(id, history.from) > 0);
  const stored = new Set(history.stored);
  const unexpected = history.seen.filter((id) => !stored.has(id));
  if (unexpected.length > 0) problems.push(`${unexpected.length} delivered messages the server never stored: ${unexpected.slice(0, 5).join(", ")}`);
  const missing = expected.filter((id) => !seenOnce.has(id));
  if (missing.length > 0) problems.push(`${missing.length} stored messages never delivered: ${missing.slice(0, 5).join(", ")}`);
  return problems;
}
