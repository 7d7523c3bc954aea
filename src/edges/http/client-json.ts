/**
 * Limits on JSON a client sends, shared by every edge that reads it: REST bodies, /ws frames,
 * Connect and gRPC JSON messages. Both checks walk the input with a loop, never by recursion, so
 * no client input can exhaust the stack: a body nested 30,000 levels deep (60 KB) is refused
 * after one pass over its bytes, before JSON.parse or any walk over the parsed value.
 */

/**
 * How deeply objects and arrays may nest in client JSON. Every message of the API is at most a
 * few levels deep; 64 leaves room for any honest client and refuses what only an attack needs.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text (a string, or its UTF-8 bytes) nests objects and arrays more than
 * `max` levels deep. One pass over the text that skips strings (escapes included); it does not
 * check that the text is JSON — JSON.parse does that next, and only when this returned false.
 * In UTF-8 every byte of a multi-byte character is ≥ 0x80, so the bytes are scanned as they are.
 */
export function exceedsJsonDepth(text: string | Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  const at = typeof text === "string" ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** What a client is told when its JSON nests too deeply. */
export function tooDeepMessage(what: string): string {
  return `${what} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`;
}

// With the u flag a well-formed pair is one code point, so this matches only unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * True when any string in a parsed JSON value (object keys included) holds an unpaired UTF-16
 * surrogate (`"\ud800"`): not Unicode text, and not storable as sent. Walks the value with an
 * explicit stack, so any depth is safe (the edges refuse deep JSON before parsing anyway).
 */
export function hasLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "string") {
      if (LONE_SURROGATE.test(next)) return true;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (typeof next === "object" && next !== null) {
      for (const [key, item] of Object.entries(next)) {
        if (LONE_SURROGATE.test(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}
