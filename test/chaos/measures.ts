/**
 * What a chaos scenario measured besides the checker's counts: how posts were answered during the
 * fault, how long after the fault ended posts succeeded and live delivery resumed, and each node's
 * clock as its HTTP Date header shows it (against the client's clock: proof that a faketime
 * skew took effect).
 */
import type { NodeName } from "./nodes.js";
import { ATTEMPT_TIMEOUT_MS, type PostRecord } from "./poster.js";
import type { SubscriberRecord } from "./subscriber.js";

/** When the fault began and ended (epoch ms; equal for an instant fault such as a SIGKILL). */
const CLOCK_PROBE_MS = 200;

export interface FaultWindow {
  readonly start: number;
  readonly end: number;
}

export interface Measures {
  /** Longest answer to an attempt in flight during the fault; ATTEMPT_TIMEOUT_MS when one never came. */
  readonly worstAnswerMs: number | undefined;
  readonly worstAnswerTimedOut: boolean;
  /** Failed attempts of the whole run by outcome ("unavailable", "internal", "timeout", "node-died", …). */
  readonly failures: Readonly<Record<string, number>>;
  /** Posts that never got a success answer (the client gave up). */
  readonly gaveUp: number;
  /** From the fault's end to the first success answer of an attempt sent after it. */
  readonly postsOkAfterMs: number | undefined;
  /** From the fault's end until every subscriber had received a message posted after it (the slowest one). */
  readonly liveAfterMs: number | undefined;
  /** Subscribers that never received a message posted after the fault ended. */
  readonly liveNever: number;
  /** How long after the fault's end the run still watched (its last answer, or receipt). */
  readonly watchedAfterMs: number | undefined;
  /** Each node's clock against the client's (probeClockOffsetMs), ms. */
  readonly clockOffsetMs: Readonly<Partial<Record<NodeName, number>>>;
}

/**
 * A node's clock against this process's, from the HTTP `Date` header of quick answers (messages'
 * created_at is the Kafka broker's time, not the node's). The header has whole seconds, so probes
 * spread over a second and the median of (header + 500 ms − mid-request) lands within a few
 * hundred ms of the offset.
 */
export async function probeClockOffsetMs(url: string, probes = 20): Promise<number | undefined> {
  const offsets: number[] = [];
  for (let i = 0; i < probes; i++) {
    const sentAt = Date.now();
    const response = await fetch(`${url}/`, { method: "HEAD" }).catch(() => undefined);
    const at = Date.now();
    const date = response?.headers.get("date");
    if (date && at - sentAt <= CLOCK_PROBE_MS) offsets.push(Date.parse(date) + 500 - (sentAt + at) / 2);
    await new Promise((resolve) => setTimeout(resolve, 1000 / probes));
  }
  return offsets.length > 0 ? Math.round(median(offsets)) : undefined;
}

export function measure(
  posts: readonly PostRecord[],
  subscribers: readonly SubscriberRecord[],
  window: FaultWindow | undefined,
  clockOffsetMs: Readonly<Partial<Record<NodeName, number>>>,
): Measures {
  const attempts = posts.flatMap((p) => p.attempts);
  const failures: Record<string, number> = {};
  for (const a of attempts) if (a.outcome !== "ok") failures[a.outcome] = (failures[a.outcome] ?? 0) + 1;
  const base = { failures, gaveUp: posts.filter((p) => !p.acked).length, clockOffsetMs };
  if (!window) return { ...base, worstAnswerMs: undefined, worstAnswerTimedOut: false, postsOkAfterMs: undefined, liveAfterMs: undefined, liveNever: 0, watchedAfterMs: undefined };

  const during = attempts.filter((a) => a.startedAt <= window.end && a.endedAt >= window.start);
  const worst = during.reduce<(typeof during)[number] | undefined>((w, a) => (!w || a.endedAt - a.startedAt > w.endedAt - w.startedAt ? a : w), undefined);
  const okAfter = attempts.filter((a) => a.outcome === "ok" && a.startedAt >= window.end).map((a) => a.endedAt);
  const postedAfter = new Set(posts.filter((p) => p.acked && p.firstSentAt >= window.end).map((p) => p.acked!.id));
  let liveAfterMs: number | undefined;
  let liveNever = 0;
  for (const s of subscribers) {
    const first = s.received.find((r) => postedAfter.has(r.id));
    if (!first) liveNever++;
    else liveAfterMs = Math.max(liveAfterMs ?? 0, first.at - window.end);
  }
  return {
    ...base,
    worstAnswerMs: worst ? Math.min(ATTEMPT_TIMEOUT_MS, worst.endedAt - worst.startedAt) : undefined,
    worstAnswerTimedOut: worst?.outcome === "timeout",
    postsOkAfterMs: okAfter.length ? Math.min(...okAfter) - window.end : undefined,
    liveAfterMs,
    liveNever,
    watchedAfterMs: Math.max(0, ...attempts.map((a) => a.endedAt), ...subscribers.flatMap((s) => s.segments.map((g) => g.endedAt ?? 0))) - window.end,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
