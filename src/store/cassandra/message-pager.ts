/**
 * Pages over a channel whose messages are spread across one-day bucket partitions: newest first,
 * strictly between the cursors, walking buckets backwards from the cursor's (or the present's)
 * bucket until the page is full or the channel's first bucket is passed.
 */
import type { MessagePage } from "../../domain/model.js";
import { bucketOf, idTimeMs, minIdAt } from "../../domain/ids.js";
import { MAX_BIGINT } from "./rows.js";

/** Reads one bucket: rows with after < id < before, newest first, at most `limit` (messages, or stubs of them). */
export type BucketReader<Row> = (bucket: number, before: bigint, after: bigint, limit: number) => Promise<Row[]>;

/**
 * How far node clocks may disagree. A message id can be issued this much "before" its channel
 * was created, or this much "after" the reading node's now, and is still found.
 */
export const CLOCK_SKEW_MS = 60_000;

/** Empty buckets are read in waves of 1, 2, 4 … up to this many in parallel. */
const MAX_WAVE = 8;

/**
 * The first bucket that can hold messages of a channel created with `channelId` (a room id,
 * or the later of two user ids): ids are snowflakes, so a channel's messages are newer.
 */
export function firstBucketOf(channelId: string): number {
  return bucketOf(minIdAt(idTimeMs(channelId) - CLOCK_SKEW_MS));
}

/**
 * Returns the page: at most `page.limit` messages with after < id < before, newest first,
 * with no message skipped across bucket boundaries. Reads no bucket older than `firstBucket`
 * or than the `after` cursor's, nor newer than the `before` cursor's or the present's.
 */
export async function readPage<Row>(
  read: BucketReader<Row>,
  page: MessagePage,
  firstBucket: number,
  nowMs: number = Date.now(),
): Promise<Row[]> {
  const before = page.before === undefined ? MAX_BIGINT : minBig(BigInt(page.before), MAX_BIGINT);
  const after = page.after === undefined ? -1n : BigInt(page.after);
  if (page.limit <= 0 || before - after <= 1n) return [];

  const presentBucket = bucketOf(minIdAt(nowMs + CLOCK_SKEW_MS));
  let bucket = page.before === undefined ? presentBucket : Math.min(bucketOf(before.toString()), presentBucket);
  const last = Math.max(firstBucket, page.after === undefined ? firstBucket : bucketOf(after.toString()));

  const out: Row[] = [];
  let wave = 1;
  while (bucket >= last && out.length < page.limit) {
    const want = page.limit - out.length;
    const buckets: number[] = [];
    for (let b = bucket; b >= last && buckets.length < wave; b--) buckets.push(b);
    // Buckets are read newest first and each comes back newest first: concatenation keeps order.
    const results = await Promise.all(buckets.map((b) => read(b, before, after, want)));
    for (const rows of results) {
      for (const row of rows) {
        if (out.length < page.limit) out.push(row);
      }
    }
    bucket -= buckets.length;
    // Grow the wave only while we keep finding nothing: sparse, old channels stay cheap.
    wave = results.every((rows) => rows.length === 0) ? Math.min(wave * 2, MAX_WAVE) : 1;
  }
  return out;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
