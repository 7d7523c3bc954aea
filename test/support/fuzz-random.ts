/**
 * A small seeded random source for the protocol fuzz: each case draws from its own generator,
 * derived from (seed, phase, case number), so a case's input does not depend on how many cases
 * ran before it, on timing, or on concurrency — `FUZZ_ONLY=phase:n` replays exactly one.
 */

/** mulberry32: fast, 32-bit state, good enough to pick fuzz inputs (not for anything secret). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The generator of case `index` of `phase` under `seed`. */
  static forCase(seed: number, phase: string, index: number): Rng {
    let h = 2166136261 ^ seed;
    for (const ch of `${phase}:${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    return new Rng(Math.imul(h ^ (h >>> 15), 2246822507) ^ index);
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One of `choices`, drawn by weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let roll = this.next() * choices.reduce((sum, [w]) => sum + w, 0);
    for (const [w, value] of choices) if ((roll -= w) < 0) return value;
    return choices[choices.length - 1]![1];
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A length: mostly small, sometimes at the edges of 7/16/64-bit encodings or past the body limit. */
  length(): number {
    return this.weighted([
      [6, this.int(40)],
      [2, this.range(100, 200)],
      [1, this.pick([125, 126, 127, 65_535, 65_536, 65_537])],
      [1, this.range(60_000, 70_000)],
    ]);
  }

  /** A short string from an alphabet that includes what breaks parsers. */
  text(max = 12): string {
    const alphabet = ["a", "Z", "0", "9", " ", "\t", '"', "'", "\\", "/", "%", "{", "}", "[", "]", ":", ",", ".", "\u0000", "\u00e9", "\u2028", "\ud800", "😀", "\r", "\n"];
    let s = "";
    for (let i = this.int(max + 1); i > 0; i--) s += this.pick(alphabet);
    return s;
  }

  /** A mutation of `input`: flipped, inserted, deleted, duplicated or truncated bytes. */
  mutate(input: Buffer, times = 1 + this.int(3)): Buffer {
    let out = Buffer.from(input);
    for (let i = 0; i < times; i++) {
      const at = this.int(out.length + 1);
      switch (this.int(6)) {
        case 0:
          if (out.length > 0) out[at % out.length]! ^= 1 << this.int(8);
          break;
        case 1:
          out = Buffer.concat([out.subarray(0, at), this.bytes(1 + this.int(4)), out.subarray(at)]);
          break;
        case 2:
          out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + this.int(8)))]);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + this.int(16)), out.subarray(at)]);
          break;
        case 4:
          out = out.subarray(0, at);
          break;
        default:
          if (out.length > 0) out[at % out.length] = this.pick([0x00, 0x0a, 0x0d, 0x20, 0x22, 0x3a, 0x7f, 0x80, 0xff]);
      }
    }
    return out;
  }
}

/** JSON text nested `depth` levels deep (arrays or objects), the payload of a stack-overflow attack. */
export function deepJson(rng: Rng, depth: number): string {
  const open = rng.pick(["[", '{"a":', '{"text":', '{"name":['] as const);
  const close = open === "[" ? "]" : open === '{"name":[' ? "]}" : "}";
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
}

/** A random JSON value as text: objects with the server's field names, numbers at the edges, odd strings. */
export function randomJson(rng: Rng, depth = 3): string {
  const keys = ["type", "room_id", "roomId", "text", "since", "name", "username", "password", "client_message_id", "clientMessageId", "to_user_id", "to_username", "dms", "ref", "__proto__", "constructor", "recipientUserId", "pageSize", "limit", ""];
  const scalar = (): string =>
    rng.pick([
      () => JSON.stringify(rng.text()),
      () => rng.pick(["0", "-1", "1e400", "-0", "1.5", "9007199254740993", "99999999999999999999", "true", "false", "null"]),
      () => JSON.stringify(String(rng.range(1, 9)).repeat(rng.range(1, 22))),
    ])();
  if (depth <= 0 || rng.chance(0.4)) return scalar();
  const n = rng.int(4);
  if (rng.chance(0.3)) return `[${Array.from({ length: n }, () => randomJson(rng, depth - 1)).join(",")}]`;
  return `{${Array.from({ length: n }, () => `${JSON.stringify(rng.pick(keys))}:${randomJson(rng, depth - 1)}`).join(",")}}`;
}
