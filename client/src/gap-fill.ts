/**
 * Filling a `gap`: the server replays at most REPLAY_LIMIT messages on resume and names the
 * stretch it skipped, (after, before). The List RPCs page newest first, so reading that stretch
 * oldest first means walking down to its bottom and coming back up.
 */
import type { Message } from "./gen.js";
import { idBefore } from "./ids.js";

/** One List call: messages with after < id < before, newest first, at most `pageSize`. */
export type PageFn = (page: { after: string; before: string; pageSize: number }) => Promise<Message[]>;

export interface ForwardPagingOptions {
  /** Messages per List call (the server allows 1–1000). */
  readonly pageSize?: number;
  /** Messages kept in memory on the way down; pages beyond it are read again on the way up. */
  readonly holdMessages?: number;
}

/**
 * Yields every message with after < id < before, oldest first, in pages, each exactly once.
 * Walks down from `before` remembering each full page's lower bound, then yields pages from the
 * bottom up, reading a page again only if it did not fit in `holdMessages` — memory stays bounded
 * however long the gap.
 */
export async function* pagesOldestFirst(page: PageFn, after: string, before: string, options: ForwardPagingOptions = {}): AsyncGenerator<Message[]> {
  const pageSize = options.pageSize ?? 1000;
  let budget = options.holdMessages ?? 10_000;
  // Full pages on the way down, newest first: [lowest id, upper bound (exclusive), content if held].
  const full: { lowest: string; upper: string; held?: Message[] }[] = [];
  let upper = before;
  let bottom: Message[];
  for (;;) {
    const newestFirst = await page({ after, before: upper, pageSize });
    const lowest = newestFirst.at(-1)?.messageId;
    if (newestFirst.length < pageSize || lowest === undefined) {
      bottom = newestFirst;
      break;
    }
    const held = budget >= newestFirst.length ? newestFirst : undefined;
    if (held) budget -= held.length;
    full.push({ lowest, upper, ...(held ? { held } : {}) });
    upper = lowest;
  }
  if (bottom.length > 0) yield bottom.reverse();
  for (const stretch of full.reverse()) {
    // Ids are integers, so "id ≥ lowest" is "id > lowest − 1": the same page again.
    const newestFirst = stretch.held ?? (await page({ after: idBefore(stretch.lowest), before: stretch.upper, pageSize }));
    yield [...newestFirst].reverse();
  }
}
