/**
 * The chaos checker: compares what each subscriber received with the acknowledged posts (those
 * that got a success answer) and with each channel's one order — its history as List pages it,
 * read from a healthy node after the run. Pure: records in, verdict out (checker.test.ts).
 *
 * What a subscriber is owed (the guarantees of issue #12):
 *   - a fresh stream (no `since`): every acknowledged message of its channel whose post was first
 *     SENT after the client received Ready;
 *   - a resumed stream (`since` = a cursor): every acknowledged message after the cursor in the
 *     channel's order (by position in List when the cursor is a listed message, else by id, as
 *     Ready's position is documented: "every message with an id greater than this");
 *   - except messages a Gap frame told it to page (after < id < before): counted, not lost.
 * Per subscriber: lost (owed, never received), duplicated (received more than once across its
 * resumes), out of channel order (received after a message that follows it in List order — its
 * sequence is not a subsequence of List), extras (received, never acknowledged: allowed), unlisted
 * (received, not in List). For the run: acknowledged but missing from List (lost from the store),
 * stored twice (one client_message_id stored under two ids).
 */

export interface StoredMessage {
  readonly id: string;
  readonly clientMessageId: string;
}

export interface AckedPost {
  readonly clientMessageId: string;
  readonly channel: string;
  readonly id: string;
  readonly firstSentAt: number;
}

export interface SubscriberView {
  readonly name: string;
  readonly channel: string;
  readonly segments: readonly { readonly since: string; readonly readyAt?: number }[];
  readonly received: readonly { readonly id: string }[];
  readonly gaps: readonly { readonly after: string; readonly before: string }[];
}

export interface CheckInput {
  readonly acked: readonly AckedPost[];
  /** Each channel's messages, oldest first, as List pages them. */
  readonly history: ReadonlyMap<string, readonly StoredMessage[]>;
  readonly subscribers: readonly SubscriberView[];
}

export interface SubscriberVerdict {
  readonly name: string;
  readonly channel: string;
  readonly received: number;
  readonly owed: number;
  readonly lost: readonly string[];
  readonly duplicated: readonly string[];
  readonly outOfOrder: readonly string[];
  readonly extras: readonly string[];
  readonly unlisted: readonly string[];
  readonly gapExcused: number;
}

export interface Verdict {
  readonly acked: number;
  readonly subscribers: readonly SubscriberVerdict[];
  /** Acknowledged ids that List does not have. */
  readonly lostFromStore: readonly string[];
  /** client_message_ids that List has under more than one id. */
  readonly storedTwice: readonly string[];
}

/** A channel's order: List position of each id; "after the cursor" by position, else by id. */
class ChannelOrder {
  readonly #position = new Map<string, number>();

  constructor(history: readonly StoredMessage[]) {
    history.forEach((m, i) => this.#position.set(m.id, i));
  }

  position(id: string): number | undefined {
    return this.#position.get(id);
  }

  /** Whether `id` comes after `cursor` ("" or "0": the beginning). */
  after(id: string, cursor: string): boolean {
    if (cursor === "" || cursor === "0") return true;
    const p = this.#position.get(id);
    const c = this.#position.get(cursor);
    if (p !== undefined && c !== undefined) return p > c;
    return compareIds(id, cursor) > 0;
  }
}

export function check(input: CheckInput): Verdict {
  const orders = new Map<string, ChannelOrder>();
  const orderOf = (channel: string) => {
    let order = orders.get(channel);
    if (!order) orders.set(channel, (order = new ChannelOrder(input.history.get(channel) ?? [])));
    return order;
  };
  const ackedIds = new Set(input.acked.map((m) => m.id));
  const subscribers = input.subscribers.map((s) => checkSubscriber(s, orderOf(s.channel), input.acked.filter((m) => m.channel === s.channel), ackedIds));
  const lostFromStore = input.acked.filter((m) => orderOf(m.channel).position(m.id) === undefined).map((m) => m.id);
  const idsByKey = new Map<string, Set<string>>();
  for (const history of input.history.values()) {
    for (const m of history) {
      if (m.clientMessageId === "") continue;
      const ids = idsByKey.get(m.clientMessageId) ?? new Set<string>();
      idsByKey.set(m.clientMessageId, ids.add(m.id));
    }
  }
  const storedTwice = [...idsByKey].filter(([, ids]) => ids.size > 1).map(([key]) => key);
  return { acked: input.acked.length, subscribers, lostFromStore, storedTwice };
}

function checkSubscriber(view: SubscriberView, order: ChannelOrder, acked: readonly AckedPost[], ackedIds: ReadonlySet<string>): SubscriberVerdict {
  const ready = view.segments.filter((s) => s.readyAt !== undefined);
  const excused = (id: string) => view.gaps.some((g) => order.after(id, g.after) && !order.after(id, g.before) && id !== g.before);
  let gapExcused = 0;
  const owed = acked.filter((m) => {
    const due = ready.some((s) => (s.since === "" ? m.firstSentAt > s.readyAt! : order.after(m.id, s.since)));
    if (due && excused(m.id)) {
      gapExcused++;
      return false;
    }
    return due;
  });
  const counts = new Map<string, number>();
  const outOfOrder: string[] = [];
  let furthest = -1;
  for (const { id } of view.received) {
    const seen = counts.get(id) ?? 0;
    counts.set(id, seen + 1);
    if (seen > 0) continue;
    const p = order.position(id);
    if (p === undefined) continue;
    if (p < furthest) outOfOrder.push(id);
    else furthest = p;
  }
  return {
    name: view.name,
    channel: view.channel,
    received: view.received.length,
    owed: owed.length,
    lost: owed.filter((m) => !counts.has(m.id)).map((m) => m.id),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    outOfOrder,
    extras: [...counts.keys()].filter((id) => !ackedIds.has(id)),
    unlisted: [...counts.keys()].filter((id) => order.position(id) === undefined),
    gapExcused,
  };
}

/** Orders decimal id strings numerically (snowflakes); non-numeric ids by text. */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}
