/**
 * How a Kafka partition orders messages and names them: the id of a message is computed from its
 * place in the log, by every reader alike, so one channel's ids increase in log order and every
 * node, the store and every subscriber agree on one order (DESIGN.md, "One order per channel").
 *
 * An id has the snowflake layout of domain/ids.ts (41 bits of ms, 10 bits, 12 bits), filled from
 * the record instead of a node's clock:
 *
 *   ms    = max(LogAppendTime of the record, LogAppendTime of the last record of the previous
 *           4096-offset block + 1)
 *   slot  = the partition's slot (topic × partition, below 1024): ids of two partitions differ
 *   low   = offset mod 4096
 *
 * Why it increases along a partition: the broker stamps LogAppendTime with its own clock, which
 * does not step back, so within one block of 4096 offsets ms never decreases and `low` increases;
 * the first record of a block has an ms above every ms of the block before unless more than 4096
 * records were appended to one partition within one millisecond. No node's clock takes part, so
 * a node's clock skew cannot reorder anything. Reading one record before a block is all the
 * history a reader needs (bus-consumer.ts starts there and seeds with it).
 *
 * Duplicates: a record whose (sender, client_message_id) an earlier record of the same partition
 * carried within `dedupeWindowMs` of log time is a retry of that message (its node died before
 * answering, say) and is dropped by every reader the same way; the retry is answered with the
 * first one.
 */
import { PARLEY_EPOCH_MS } from "../../domain/ids.js";
import type { ChatMessage } from "../../domain/model.js";
import type { MessageDraft } from "../bus.js";

/** Offsets per block: the 12 low bits of an id. */
export const BLOCK = 4096n;
/** Slots available to partitions (the 10 middle bits). */
export const SLOTS = 1024;

/** The first offset of the block holding `offset`. */
export function blockStart(offset: bigint): bigint {
  return offset - (offset % BLOCK);
}

/** The id of the record at `offset`, given its LogAppendTime and the floor of its block (see above). */
export function logId(slot: number, offset: bigint, appendedAtMs: number, blockFloorMs: number): string {
  const ms = BigInt(Math.max(appendedAtMs, blockFloorMs)) - PARLEY_EPOCH_MS;
  return ((ms << 22n) | (BigInt(slot) << 12n) | offset % BLOCK).toString();
}

/** What reading one record gave. */
export type Sequenced =
  | { readonly kind: "message"; readonly message: ChatMessage }
  | { readonly kind: "duplicate"; readonly original: ChatMessage };

/** The reading state of one partition: must see its records in offset order, none skipped. */
export class PartitionSequence {
  /** LogAppendTime of the last record read; the floor of the next block is this + 1. */
  #lastAppendedAtMs = 0;
  #blockFloorMs = 0;
  #next: bigint | undefined;
  /** First message per (sender, key), in log order, for the dedupe window. */
  readonly #keys = new Map<string, ChatMessage>();

  constructor(
    readonly slot: number,
    private readonly dedupeWindowMs: number,
  ) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`partition slot must be in 0..${SLOTS - 1}, got ${slot}`);
  }

  /** The offset this sequence expects next (undefined before the first record). */
  get next(): bigint | undefined {
    return this.#next;
  }

  /**
   * Reads the record at `offset` (its draft, or undefined for a record that is not a message:
   * it still takes its place in the sequence). Records must come in offset order; a gap
   * (deleted offsets) is fine as long as nothing readable was skipped.
   */
  read(offset: bigint, appendedAtMs: number, draft: MessageDraft | undefined): Sequenced | undefined {
    if (this.#next !== undefined && offset < this.#next) throw new Error(`offset ${offset} read twice (expected ${this.#next})`);
    // Crossing into a new block (possibly over a gap): the floor is the last record before it.
    if (this.#next === undefined || blockStart(offset) !== blockStart(this.#next - 1n)) {
      this.#blockFloorMs = this.#next === undefined ? 0 : this.#lastAppendedAtMs + 1;
    }
    this.#lastAppendedAtMs = appendedAtMs;
    this.#next = offset + 1n;
    if (!draft) return undefined;
    const message: ChatMessage = {
      ...draft,
      id: logId(this.slot, offset, appendedAtMs, this.#blockFloorMs),
      createdAtMs: appendedAtMs,
    };
    if (!draft.clientMessageId) return { kind: "message", message };
    this.#forgetBefore(appendedAtMs - this.dedupeWindowMs);
    const key = `${draft.senderId}\u0000${draft.clientMessageId}`;
    const original = this.#keys.get(key);
    if (original && original.channel.kind === draft.channel.kind && original.channel.id === draft.channel.id) {
      return { kind: "duplicate", original };
    }
    if (!original) this.#keys.set(key, message);
    return { kind: "message", message };
  }

  /**
   * Starts the sequence just after the record at `offset` (the last record of a block, read only
   * for its LogAppendTime): the block that follows gets its floor from it.
   */
  seed(offset: bigint, appendedAtMs: number): void {
    if (this.#next !== undefined) throw new Error("seed() must come before any read()");
    this.#lastAppendedAtMs = appendedAtMs;
    this.#next = offset + 1n;
  }

  /** Map iteration follows insertion (= log) order, so expired keys are at the front. */
  #forgetBefore(cutoffMs: number): void {
    for (const [key, message] of this.#keys) {
      if (message.createdAtMs >= cutoffMs) return;
      this.#keys.delete(key);
    }
  }
}
