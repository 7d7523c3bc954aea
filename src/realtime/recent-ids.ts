/** Remembers the last N ids a stream sent, to drop duplicates when replay meets live delivery. */
export class RecentIds {
  readonly #set = new Set<string>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#ring = new Array<string | undefined>(capacity);
  }

  has(id: string): boolean {
    return this.#set.has(id);
  }

  add(id: string): void {
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#set.delete(evicted);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#set.add(id);
  }
}
