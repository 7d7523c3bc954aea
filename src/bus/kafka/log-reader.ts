/**
 * Reading the Kafka log the way every reader must, so that all of them name and de-duplicate
 * messages alike (log-sequence.ts): each partition is read in offset order from a bootstrap
 * point before the first offset the reader hands on, far enough back to know
 *   - the LogAppendTime of the last record of the block before (the ids' floor), and
 *   - every keyed message of the de-duplication window (a retry is answered with its original).
 * Two readers use it: each node's live consumer (bus-consumer.ts) and the store writer
 * (store-writer.ts).
 */
import type { KafkaMessage } from "kafkajs";
import type { PresenceReport, ReadState, RoomRecord, Typing } from "../../domain/model.js";
import { type LogRecord, decodeRecord } from "./event-codec.js";
import { BLOCK, PartitionSequence, type Sequenced, blockStart } from "./log-sequence.js";
import { type BusTopics, partitionSlot } from "./topics.js";

/** One record as the reader hands it on. */
export type ReadResult =
  | { readonly kind: "sequenced"; readonly sequenced: Sequenced; readonly nonce: string }
  | { readonly kind: "revocation"; readonly tokenId: string; readonly expiresAtMs: number }
  | { readonly kind: "read"; readonly userId: string; readonly state: ReadState }
  | { readonly kind: "typing"; readonly typing: Typing }
  | { readonly kind: "room_created"; readonly room: RoomRecord }
  | { readonly kind: "presence"; readonly report: PresenceReport }
  | { readonly kind: "unreadable" };

/** Offsets of one partition that bound a bootstrap. */
export interface PartitionBounds {
  /** The first offset still in the log. */
  readonly low: bigint;
  /** The first offset of the de-duplication window (records appended since its start). */
  readonly windowStart: bigint;
}

interface PartitionState {
  readonly sequence: PartitionSequence | undefined;
  /** Records before this offset are read for their state only, never handed on. */
  readonly handFrom: bigint;
  /** The offset read for its LogAppendTime only (the last record before a block), or -1. */
  readonly seedOffset: bigint;
  /** The next offset to fetch. */
  next: bigint;
}

export class LogReader {
  readonly #partitions = new Map<string, PartitionState>();

  constructor(
    private readonly topics: BusTopics,
    private readonly dedupeWindowMs: number,
  ) {}

  /**
   * Prepares (topic, partition) to hand on every record from `handFrom`, and returns the offset to
   * fetch from: the last record of the block before the window (or before handFrom), or the log's
   * first offset. The control topic needs no history: it is fetched from handFrom.
   */
  begin(topic: string, partition: number, handFrom: bigint, bounds: PartitionBounds): bigint {
    const slot = partitionSlot(this.topics, topic, partition);
    if (slot === undefined) {
      this.#partitions.set(key(topic, partition), { sequence: undefined, handFrom, seedOffset: -1n, next: handFrom });
      return handFrom;
    }
    const earliest = bounds.windowStart < handFrom ? bounds.windowStart : handFrom;
    let fetchFrom = blockStart(earliest) - 1n;
    if (fetchFrom < bounds.low) fetchFrom = bounds.low;
    const seedOffset = fetchFrom % BLOCK === BLOCK - 1n ? fetchFrom : -1n;
    this.#partitions.set(key(topic, partition), { sequence: new PartitionSequence(slot, this.dedupeWindowMs), handFrom, seedOffset, next: fetchFrom });
    return fetchFrom;
  }

  /** Forgets (topic, partition): the next read needs a begin() again (a writer that did not commit). */
  forget(topic: string, partition: number): void {
    this.#partitions.delete(key(topic, partition));
  }

  /** Whether begin() ran for (topic, partition). */
  has(topic: string, partition: number): boolean {
    return this.#partitions.has(key(topic, partition));
  }

  /** The offset the partition is to be fetched from next (undefined before begin()). */
  next(topic: string, partition: number): bigint | undefined {
    return this.#partitions.get(key(topic, partition))?.next;
  }

  /**
   * Reads one record of (topic, partition), in offset order; returns what to hand on, or
   * undefined for a record before handFrom or one already read (a refetch after a rejoin).
   */
  read(topic: string, partition: number, message: KafkaMessage): ReadResult | undefined {
    const state = this.#partitions.get(key(topic, partition));
    if (!state) throw new Error(`LogReader.read before begin() for ${topic}/${partition}`);
    const offset = BigInt(message.offset);
    // A refetch after a rejoin, or what a fetch returns from before the position asked for.
    if (offset < state.next) return undefined;
    state.next = offset + 1n;
    const { sequence } = state;
    if (!sequence) {
      if (offset < state.handFrom) return undefined;
      return handOn(decodeRecord(message.value), undefined);
    }
    const appendedAtMs = Number(message.timestamp);
    if (sequence.next === undefined && offset === state.seedOffset) {
      sequence.seed(offset, appendedAtMs);
      return undefined;
    }
    const record = decodeRecord(message.value);
    const sequenced = sequence.read(offset, appendedAtMs, record?.type === "message" ? record.draft : undefined);
    if (offset < state.handFrom) return undefined;
    return handOn(record, sequenced);
  }
}

function handOn(record: LogRecord | undefined, sequenced: Sequenced | undefined): ReadResult {
  if (record?.type === "token_revoked") return { kind: "revocation", tokenId: record.tokenId, expiresAtMs: record.expiresAtMs };
  if (record?.type === "read") return { kind: "read", userId: record.userId, state: record.state };
  if (record?.type === "typing") return { kind: "typing", typing: record.typing };
  if (record?.type === "room_created") return { kind: "room_created", room: record.room };
  if (record?.type === "presence") return { kind: "presence", report: record.report };
  if (record?.type === "message" && sequenced) return { kind: "sequenced", sequenced, nonce: record.nonce };
  return { kind: "unreadable" };
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
