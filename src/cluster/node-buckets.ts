/**
 * Rate-limit buckets counted once per node when it runs several worker processes. Node's
 * cluster hands connections out round-robin, so a client's calls reach every worker, and
 * buckets kept in each worker would admit WORKERS times every limit. Here the primary holds
 * the node's buckets (the same TokenBuckets a single process uses) and each worker leases
 * tokens from them a few at a time:
 *
 * - a worker spends a key's leased tokens with no IPC at all; with none left, the call waits
 *   for a lease — one IPC round trip, batched with everything else of its turn (ipc.ts);
 * - a key's first lease is one token, and each lease while it is in use twice the last, up
 *   to a quarter of the burst shared over the workers: a key seldom used (a user posting now
 *   and then) leaves nothing to give back, and the workers together never hold more than
 *   about a third of a bucket;
 * - a key in steady use asks for its next lease when a quarter of the last is left, so it
 *   rarely waits;
 * - tokens a worker has not spent LEASE_MS after their lease go back to the node's bucket;
 * - a refusal is remembered for a moment, so a flood over its limit is answered without IPC
 *   (its bucket keeps filling meanwhile: nothing the client may spend is lost).
 *
 * The bound: every call a node admits spent a token its one bucket granted, at most one lease
 * earlier. Over any T seconds a node admits at most burst + perSecond × T plus what its workers
 * held at the start — at most burst ÷ 3. A worker that dies loses its leases: the node then
 * admits less, never more.
 */
import type { IpcPort, RelayCluster, RelayWorker } from "./ipc.js";
import { LIMIT_NAMES, type Buckets, type BucketsFactory, type LimitName, type RateLimits } from "../edges/admission/rate-limit.js";
import { TokenBuckets, type Rate } from "../edges/admission/token-buckets.js";

/** How long leased tokens may wait to be spent before they go back. */
const LEASE_MS = 1000;

/** A worker asks for up to `want` tokens of `key`'s bucket of `limit`. */
interface LeaseRequest {
  readonly parleyLease: { readonly ref: number; readonly limit: LimitName; readonly key: string; readonly want: number };
}

/** The primary's answer: `granted` tokens, or none and the seconds until there will be one. */
interface LeaseReply {
  readonly parleyLeased: { readonly ref: number } & Grant;
}

/** Tokens a worker did not spend in time, back to the node's bucket. */
interface LeaseReturn {
  readonly parleyLeaseReturn: { readonly limit: LimitName; readonly key: string; readonly tokens: number };
}

interface Grant {
  readonly granted: number;
  readonly retryAfterSeconds: number;
}

function has<K extends string>(message: unknown, field: K): message is Record<K, Record<string, unknown>> {
  return typeof message === "object" && message !== null && field in message;
}

/** The primary's side: answers lease requests from the node's buckets; returns the function that stops it. */
export function serveNodeBuckets(cluster: RelayCluster, limits: RateLimits, now: () => number = Date.now): () => void {
  const buckets = new Map(LIMIT_NAMES.map((name) => [name, new TokenBuckets(limits[name])] as const));
  const onMessage = (worker: RelayWorker, message: unknown) => {
    if (has(message, "parleyLease")) {
      const { ref, limit, key, want } = (message as unknown as LeaseRequest).parleyLease;
      const grant = buckets.get(limit)?.takeUpTo(key, want, now()) ?? { granted: 0, retryAfterSeconds: 1 };
      if (worker.isConnected()) worker.send({ parleyLeased: { ref, ...grant } } satisfies LeaseReply);
    } else if (has(message, "parleyLeaseReturn")) {
      const { limit, key, tokens } = (message as unknown as LeaseReturn).parleyLeaseReturn;
      buckets.get(limit)?.giveBack(key, tokens, now());
    }
  };
  cluster.on("message", onMessage);
  return () => cluster.off("message", onMessage);
}

/**
 * A worker's side: buckets that lease from the primary's. `port` is the worker's one batched
 * IPC channel (cluster/ipc.ts); `workers` how many share the node's buckets.
 */
export function leasedBuckets(port: IpcPort, workers: number, now: () => number = Date.now): BucketsFactory {
  const primary = new LeaseChannel(port);
  return (limit, rate) => new LeasedBuckets(primary, limit, rate, workers, now);
}

/** Lease requests in flight over one IPC channel, matched to their replies. */
class LeaseChannel {
  readonly #waiting = new Map<number, (grant: Grant) => void>();
  #nextRef = 0;

  constructor(private readonly port: IpcPort) {
    port.on("message", (message) => {
      if (!has(message, "parleyLeased")) return;
      const { ref, granted, retryAfterSeconds } = (message as unknown as LeaseReply).parleyLeased;
      const resolve = this.#waiting.get(ref);
      this.#waiting.delete(ref);
      resolve?.({ granted, retryAfterSeconds });
    });
  }

  request(limit: LimitName, key: string, want: number): Promise<Grant> {
    const ref = this.#nextRef++;
    return new Promise((resolve) => {
      this.#waiting.set(ref, resolve);
      const request: LeaseRequest = { parleyLease: { ref, limit, key, want } };
      // No channel (the primary is gone; this worker is on its way out): refuse, retryably.
      this.port.send!(request, (error) => {
        if (error && this.#waiting.delete(ref)) resolve({ granted: 0, retryAfterSeconds: 1 });
      });
    });
  }

  giveBack(limit: LimitName, key: string, tokens: number): void {
    this.port.send!({ parleyLeaseReturn: { limit, key, tokens } } satisfies LeaseReturn);
  }
}

/** One key's tokens on this worker. */
interface Lease {
  tokens: number;
  /** The size of the last lease asked for (0: none yet); the next asks for twice that, up to the most. */
  size: number;
  expiresAtMs: number;
  /** The request for the next lease, while one is in flight. */
  pending: Promise<Leased> | undefined;
  /** Until when the node's bucket is known to be empty, and what to tell callers meanwhile. */
  refusedUntilMs: number;
  retryAfterSeconds: number;
}

/** A lease's answer, with what was asked for. */
interface Leased extends Grant {
  readonly wanted: number;
}

/** The buckets of one limit, as one worker of the node sees them. */
class LeasedBuckets implements Buckets {
  readonly #leases = new Map<string, Lease>();
  readonly #maxSize: number;
  readonly #refusalMemoryMs: number;

  constructor(
    private readonly primary: LeaseChannel,
    private readonly limit: LimitName,
    rate: Rate,
    workers: number,
    private readonly now: () => number,
  ) {
    this.#maxSize = Math.max(1, Math.floor(rate.burst / (4 * workers)));
    // Short next to how long the bucket takes to fill, so no token it gains meanwhile is wasted.
    this.#refusalMemoryMs = Math.min(50, (500 * rate.burst) / rate.perSecond);
    // Expired leases go back even when their key is not used again (the timer keeps no process alive).
    setInterval(() => this.#sweep(this.now()), LEASE_MS).unref();
  }

  take(key: string, now: number): number | Promise<number> {
    const lease = this.#leases.get(key);
    if (lease && !lease.pending && now >= lease.expiresAtMs && now >= lease.refusedUntilMs) this.#end(key, lease);
    else if (lease && lease.tokens >= 1) {
      lease.tokens -= 1;
      if (lease.size >= 4 && lease.tokens <= lease.size / 4) lease.pending ??= this.#lease(key, lease);
      return 0;
    } else if (lease && now < lease.refusedUntilMs) return lease.retryAfterSeconds;
    return this.#wait(key);
  }

  async #wait(key: string): Promise<number> {
    for (;;) {
      let lease = this.#leases.get(key);
      if (!lease) {
        lease = { tokens: 0, size: 0, expiresAtMs: 0, pending: undefined, refusedUntilMs: 0, retryAfterSeconds: 0 };
        this.#leases.set(key, lease);
      }
      const leased = await (lease.pending ??= this.#lease(key, lease));
      if (lease.tokens >= 1) {
        lease.tokens -= 1;
        return 0;
      }
      // Less than a full lease: the node's bucket is empty. A full one went to the callers that
      // waited before this one: ask again.
      if (leased.granted < leased.wanted) return Math.max(1, leased.retryAfterSeconds);
    }
  }

  #lease(key: string, lease: Lease): Promise<Leased> {
    const wanted = Math.min(this.#maxSize, Math.max(1, lease.size * 2));
    lease.size = wanted;
    return this.primary.request(this.limit, key, wanted).then((grant) => {
      lease.pending = undefined;
      const now = this.now();
      if (grant.granted > 0) {
        lease.tokens += grant.granted;
        lease.expiresAtMs = now + LEASE_MS;
      } else {
        lease.refusedUntilMs = now + this.#refusalMemoryMs;
        lease.retryAfterSeconds = grant.retryAfterSeconds;
      }
      return { ...grant, wanted };
    });
  }

  /** Forgets an expired lease, giving its unspent tokens back. */
  #end(key: string, lease: Lease): void {
    this.#leases.delete(key);
    if (lease.tokens >= 1) this.primary.giveBack(this.limit, key, Math.floor(lease.tokens));
  }

  #sweep(now: number): void {
    for (const [key, lease] of this.#leases) {
      if (!lease.pending && now >= lease.expiresAtMs && now >= lease.refusedUntilMs) this.#end(key, lease);
    }
  }
}
