/**
 * The ids a stream replayed from the store, to drop the live copies of the same messages
 * (a post can be both stored before the replay read and published after the stream registered).
 * Live messages themselves are never repeated by the hub, so only replayed ids are kept: nothing
 * is allocated for a stream that does not resume, and nothing is added per live delivery.
 */
export class ReplayedIds {
  readonly #ids: ReadonlySet<string>;

  constructor(ids: Iterable<string>) {
    this.#ids = new Set(ids);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
