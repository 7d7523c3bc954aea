/**
 * The per-address cap on open connections, counted where connections arrive (the listener), by
 * TCP peer address: X-Forwarded-For cannot be read before a request, and a header a client
 * writes is no basis for refusing a socket. A trusted proxy (TRUSTED_PROXIES) is exempt — it
 * carries many clients, whose requests the per-address rate limits still see by their forwarded
 * address. An IPv6 peer is counted by its /64: one host usually holds a whole /64, so per-address
 * counting would let it open 2^64 times the cap. IPv4-mapped IPv6 addresses count as IPv4.
 *
 * What it keeps is one map entry per address with open connections (not per connection): the
 * listener's close handler, shared by every socket, gives the count back.
 */
import type { Socket } from "node:net";

export class AddressCap {
  readonly #open = new Map<string, number>();
  readonly #exempt: ReadonlySet<string>;

  /** At most `max` open connections per address; `exempt` peers (exact addresses) are not counted. */
  constructor(
    readonly max: number,
    exempt: readonly string[],
  ) {
    this.#exempt = new Set(exempt);
  }

  /** Counts a new connection; false (and nothing counted) when its address already holds `max`. */
  admit(socket: Socket): boolean {
    const peer = socket.remoteAddress ?? "";
    if (this.#exempt.has(peer)) return true;
    const key = addressKey(peer);
    const held = this.#open.get(key) ?? 0;
    if (held >= this.max) return false;
    this.#open.set(key, held + 1);
    return true;
  }

  /** Gives back the count of a connection admit() accepted; call once, when it has closed. */
  release(socket: Socket): void {
    // The address was read (and cached by the socket) in admit(), so it is still known here.
    const peer = socket.remoteAddress ?? "";
    if (this.#exempt.has(peer)) return;
    const key = addressKey(peer);
    const held = this.#open.get(key);
    if (held === undefined) return;
    if (held <= 1) this.#open.delete(key);
    else this.#open.set(key, held - 1);
  }

  /** Open connections counted for `address`'s key (for tests and metrics). */
  count(address: string): number {
    return this.#open.get(addressKey(address)) ?? 0;
  }
}

/**
 * What the cap counts by: the IPv4 address as is (also when written IPv4-mapped,
 * `::ffff:1.2.3.4`), the first 64 bits of an IPv6 address (`2001:db8:0:1::/64`).
 */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const lower = address.toLowerCase();
  if (lower.startsWith("::ffff:") && lower.includes(".")) return lower.slice(7);
  const bare = lower.split("%", 1)[0]!;
  const [head = "", tail] = bare.split("::", 2);
  const front = head === "" ? [] : head.split(":");
  const back = tail ? tail.split(":") : [];
  // "::" stands for as many zero groups as make eight.
  const zeros = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - front.length - back.length)).fill("0");
  const groups = [...front, ...zeros, ...back];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
