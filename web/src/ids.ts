/** Message and user ids are decimal strings of unsigned 64-bit ints; "" means none. */

/** Orders two ids numerically: negative when a < b. "" sorts before every id. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return -1;
  if (b === "") return 1;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The larger of two ids ("" when both are ""). */
export function maxId(a: string, b: string): string {
  return compareIds(a, b) >= 0 ? a : b;
}
