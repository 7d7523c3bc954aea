/**
 * Message ids are decimal strings of 64-bit integers (snowflakes): they order numerically, which
 * is not the order of their text ("9" < "10"). "" means "no id".
 */

/** Orders two ids numerically: negative when a < b. "" sorts before every id. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return -1;
  if (b === "") return 1;
  // Without leading zeros, a longer decimal is a larger number: no BigInt on the hot path.
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : 1;
}

/** The larger of two ids ("" when both are ""). */
export function maxId(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}

/** The id just below `id` (for an inclusive lower bound with an exclusive `after` cursor). */
export function idBefore(id: string): string {
  return (BigInt(id) - 1n).toString();
}
