/** Reading subscription streams in tests: collect frames until a condition, with a deadline. */
type FrameLike = { frame: { case: string | undefined; value?: unknown } };

export interface Collected {
  readonly cases: string[];
  readonly texts: string[];
  readonly ids: string[];
}

/** Reads frames from an async iterator until `until` returns true or the deadline passes. */
export async function collect<T extends FrameLike>(
  iterator: AsyncIterator<T>,
  until: (c: Collected) => boolean,
  timeoutMs = 10_000,
): Promise<Collected> {
  const c = { cases: [] as string[], texts: [] as string[], ids: [] as string[] };
  const deadline = Date.now() + timeoutMs;
  while (!until(c)) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`timed out; got ${JSON.stringify(c)}`);
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(c)}`)), remaining)),
    ]);
    if (next.done) break;
    const frame = next.value.frame;
    c.cases.push(frame.case ?? "");
    if (frame.case === "message") {
      const m = frame.value as { text: string; messageId: string };
      c.texts.push(m.text);
      c.ids.push(m.messageId);
    }
  }
  return c;
}
