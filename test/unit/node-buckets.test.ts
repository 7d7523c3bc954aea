/**
 * A node's rate-limit buckets shared by its workers through leases (cluster/node-buckets.ts),
 * over an in-process stand-in for the IPC channels (messages arrive on a later turn, in order,
 * as node:child_process delivers them) and on a clock the test moves. The promise under test:
 * however the calls fall on the workers, the node admits at most burst + perSecond × elapsed.
 * Then each side alone, against a peer the test plays, for the exact messages that promise
 * rests on: lease sizes, when leases end and what goes back, how long a refusal is remembered.
 */
import { EventEmitter } from "node:events";
import { fc, test } from "@fast-check/vitest";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { IpcPort } from "../../src/cluster/ipc.js";
import type { RelayCluster, RelayWorker } from "../../src/cluster/ipc.js";
import { leasedBuckets, serveNodeBuckets } from "../../src/cluster/node-buckets.js";
import type { Buckets, Rate, RateLimits } from "../../src/edges/admission/rate-limit.js";

/** The same rate for every limit. */
function limitsOf(rate: Rate): RateLimits {
  return { flood: rate, address: rate, user: rate, passwordAddress: rate, signInUsername: rate, passwordCallsPerAddress: 1 };
}

/** What a worker sent its primary, in short: a lease request, or tokens given back. */
type Sent = { readonly lease: string; readonly want: number } | { readonly giveBack: string; readonly tokens: number };

function summary(message: unknown): Sent {
  const { parleyLease, parleyLeaseReturn } = message as {
    parleyLease?: { limit: string; key: string; want: number };
    parleyLeaseReturn?: { limit: string; key: string; tokens: number };
  };
  if (parleyLease) return { lease: `${parleyLease.limit}/${parleyLease.key}`, want: parleyLease.want };
  if (parleyLeaseReturn) return { giveBack: `${parleyLeaseReturn.limit}/${parleyLeaseReturn.key}`, tokens: parleyLeaseReturn.tokens };
  throw new Error(`not a message of the node's buckets: ${JSON.stringify(message)}`);
}

/**
 * A primary and `workers` workers joined by in-process channels; `toPrimary` logs what workers
 * sent (`sent` counts it), `toWorkers` what the primary answered.
 */
function node(rate: Rate, workers: number) {
  const clock = { now: 1_000_000 };
  const primarySide = new EventEmitter();
  const cluster: RelayCluster = {
    on: (event, listener) => primarySide.on(event, listener),
    off: (event, listener) => primarySide.off(event, listener),
  };
  serveNodeBuckets(cluster, limitsOf(rate), () => clock.now);
  const toPrimary: Sent[] = [];
  const toWorkers: unknown[] = [];
  const buckets: Buckets[] = [];
  for (let i = 0; i < workers; i++) {
    const workerSide = new EventEmitter();
    const worker: RelayWorker = {
      isConnected: () => true,
      send: (message) => {
        toWorkers.push(message);
        setImmediate(() => workerSide.emit("message", message));
        return true;
      },
    };
    const port: IpcPort = {
      send: (message, callback) => {
        toPrimary.push(summary(message));
        setImmediate(() => {
          primarySide.emit("message", worker, message);
          callback?.(null);
        });
        return true;
      },
      on: (event, listener) => workerSide.on(event, listener),
      off: (event, listener) => workerSide.off(event, listener),
    };
    buckets.push(leasedBuckets(port, workers, () => clock.now)("user", rate));
  }
  return { clock, buckets, toPrimary, toWorkers, sent: () => toPrimary.length };
}

/** Takes one token of `key` on `buckets`; resolves with true when admitted. */
async function admitted(buckets: Buckets, key: string, now: number): Promise<boolean> {
  return (await buckets.take(key, now)) === 0;
}

describe("leased buckets", () => {
  it("admit the burst once for the node, however many calls wait on each worker at once", async () => {
    const { clock, buckets } = node({ perSecond: 1, burst: 40 }, 2);
    const calls = Array.from({ length: 100 }, (_, i) => admitted(buckets[i % 2]!, "u", clock.now));
    const admittedCount = (await Promise.all(calls)).filter(Boolean).length;
    // Leases of at most 40 / (4 × 2) = 5: at most one each is left unspent on a worker.
    expect(admittedCount).toBeLessThanOrEqual(40);
    expect(admittedCount).toBeGreaterThanOrEqual(40 - 5);
  });

  it("ask once for a key seldom used, and seldom for a key in steady use", async () => {
    const { clock, buckets, sent } = node({ perSecond: 1000, burst: 80 }, 1);
    // A first call asks for one token, which it spends: nothing is left to give back.
    expect(await admitted(buckets[0]!, "seldom", clock.now)).toBe(true);
    expect(sent()).toBe(1);
    // A key in use: leases of 1, 2, 4, 8, 16, then 20 (80 ÷ 4), each asked for before the last runs out.
    let answeredAtOnce = 0;
    for (let i = 0; i < 200; i++) {
      const answer = buckets[0]!.take("steady", clock.now);
      if (answer === 0) answeredAtOnce++;
      else expect(await answer).toBe(0);
      if (i % 20 === 19) clock.now += 250;
      // The next call comes on a later turn, as requests do: an answer asked for ahead can arrive.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sent()).toBeLessThanOrEqual(1 + 5 + 200 / 20 + 2);
    // Only while the leases are 1 and 2 tokens (too small to ask ahead) does a call wait.
    expect(answeredAtOnce).toBeGreaterThanOrEqual(200 - 3);
  });

  it("give back what a worker did not spend within a second, for the other workers to spend", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    try {
      const { clock, buckets } = node({ perSecond: 0.001, burst: 32 }, 2);
      // Worker 0 leases 1 and spends it, then leases 2 and spends 1: it holds one.
      expect(await admitted(buckets[0]!, "u", clock.now)).toBe(true);
      expect(await admitted(buckets[0]!, "u", clock.now)).toBe(true);
      let spentOnOne = 0;
      while (await admitted(buckets[1]!, "u", clock.now)) spentOnOne++;
      expect(spentOnOne).toBe(29);
      // A second on, worker 0's sweep gives its one back, though it sees no call for "u".
      clock.now += 1000;
      vi.advanceTimersByTime(1000);
      let afterwards = 0;
      while (await admitted(buckets[1]!, "u", clock.now)) afterwards++;
      expect(afterwards).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("remember a refusal for a moment, so a flood over the limit costs no IPC", async () => {
    const { clock, buckets, sent } = node({ perSecond: 1, burst: 1 }, 2);
    expect(await admitted(buckets[0]!, "u", clock.now)).toBe(true);
    expect(await buckets[0]!.take("u", clock.now)).toBe(1);
    const before = sent();
    for (let i = 0; i < 100; i++) expect(buckets[0]!.take("u", clock.now)).toBe(1);
    expect(sent()).toBe(before);
    // After the moment, the primary is asked again — and a token has come back meanwhile.
    clock.now += 1000;
    expect(await admitted(buckets[0]!, "u", clock.now)).toBe(true);
  });

  it("keep apart keys and limits", async () => {
    const { clock, buckets } = node({ perSecond: 1, burst: 1 }, 2);
    expect(await admitted(buckets[0]!, "a", clock.now)).toBe(true);
    expect(await admitted(buckets[1]!, "b", clock.now)).toBe(true);
    expect(await admitted(buckets[1]!, "a", clock.now)).toBe(false);
  });

  test.prop(
    [
      fc.integer({ min: 1, max: 4 }),
      fc.record({ perSecond: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 60 }) }),
      fc.array(fc.record({ worker: fc.nat(), calls: fc.integer({ min: 1, max: 10 }), advanceMs: fc.integer({ min: 0, max: 400 }) }), { maxLength: 40 }),
    ],
    { numRuns: 60, endOnFailure: true },
  )("never admit more than burst + perSecond × elapsed for the node", async (workers, rate, steps) => {
    const { clock, buckets } = node(rate, workers);
    const start = clock.now;
    let admittedCount = 0;
    for (const step of steps) {
      clock.now += step.advanceMs;
      const worker = buckets[step.worker % workers]!;
      const answers = await Promise.all(Array.from({ length: step.calls }, () => admitted(worker, "k", clock.now)));
      admittedCount += answers.filter(Boolean).length;
      expect(admittedCount).toBeLessThanOrEqual(rate.burst + (rate.perSecond * (clock.now - start)) / 1000);
    }
  });
});

/** One event-loop turn: what the in-process channels deliver on a later turn has arrived. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What `answer` settled to within a few turns of the event loop, or "pending". */
async function afterTurns<T>(answer: T | Promise<T>, turns = 5): Promise<T | "pending"> {
  let settled: T | "pending" = "pending";
  void Promise.resolve(answer).then((value) => (settled = value));
  for (let i = 0; i < turns; i++) await turn();
  return settled;
}

/**
 * The node's primary alone, over a channel the test plays the worker of: `receive` hands it a
 * message from the worker (synchronously: whatever it throws, the test sees), `replies` logs what
 * it sent back.
 */
function primary(rate: Rate) {
  const clock = { now: 1_000_000 };
  const primarySide = new EventEmitter();
  const cluster: RelayCluster = {
    on: (event, listener) => primarySide.on(event, listener),
    off: (event, listener) => primarySide.off(event, listener),
  };
  const stop = serveNodeBuckets(cluster, limitsOf(rate), () => clock.now);
  let connected = true;
  const replies: unknown[] = [];
  const worker: RelayWorker = {
    isConnected: () => connected,
    send: (message) => {
      replies.push(message);
      return true;
    },
  };
  return {
    clock,
    stop,
    replies,
    disconnect: () => (connected = false),
    receive: (message: unknown) => primarySide.emit("message", worker, message),
    lease: (ref: number, key: string, want: number, limit = "user") => primarySide.emit("message", worker, { parleyLease: { ref, limit, key, want } }),
    giveBack: (key: string, tokens: number, limit = "user") => primarySide.emit("message", worker, { parleyLeaseReturn: { limit, key, tokens } }),
  };
}

/**
 * One worker's buckets of the "user" limit, over a channel whose primary the test plays: `sent`
 * logs what the worker sent, `answer` replies to its oldest unanswered lease request (at once,
 * at the clock's time), `deliver` hands the worker any message. Sweeps run only when the test
 * calls `sweep` (setInterval must be faked before this is called).
 */
function worker(rate: Rate, options: { workers?: number; sendsFail?: boolean } = {}) {
  const clock = { now: 1_000_000 };
  const workerSide = new EventEmitter();
  const sent: Sent[] = [];
  const unanswered: number[] = [];
  const port: IpcPort = {
    send: (message, callback) => {
      sent.push(summary(message));
      const { parleyLease } = message as { parleyLease?: { ref: number } };
      if (parleyLease) unanswered.push(parleyLease.ref);
      setImmediate(() => callback?.(options.sendsFail ? new Error("channel closed") : null));
      return true;
    },
    on: (event, listener) => workerSide.on(event, listener),
    off: (event, listener) => workerSide.off(event, listener),
  };
  const buckets = leasedBuckets(port, options.workers ?? 1, () => clock.now)("user", rate);
  const deliver = (message: unknown) => workerSide.emit("message", message);
  return {
    clock,
    sent,
    deliver,
    take: (key: string) => buckets.take(key, clock.now),
    /** Grants the oldest unanswered request `granted` tokens; returns the reply, to deliver again. */
    answer(granted: number, retryAfterSeconds = 0): unknown {
      const ref = unanswered.shift();
      if (ref === undefined) throw new Error("no lease request to answer");
      const reply = { parleyLeased: { ref, granted, retryAfterSeconds } };
      deliver(reply);
      return reply;
    },
    /** A take that asks the primary, answered with `granted` tokens: resolves with take's answer. */
    async leased(key: string, granted: number, retryAfterSeconds = 0): Promise<number> {
      const answer = buckets.take(key, clock.now);
      expect(answer).toBeInstanceOf(Promise);
      this.answer(granted, retryAfterSeconds);
      return answer;
    },
    /** Runs the sweep once, at `atMs` on the clock. */
    sweep(atMs: number): void {
      clock.now = atMs;
      vi.advanceTimersByTime(1000);
    },
  };
}

/** A rate whose leases go up to 20 tokens (80 ÷ 4, one worker) and whose refusals are remembered 50 ms. */
const ROOMY: Rate = { perSecond: 10, burst: 80 };

describe("the primary of the node's buckets", () => {
  it("grant up to what a lease asks from the node's bucket, and takes back what is given back", () => {
    const p = primary({ perSecond: 0.5, burst: 3 });
    p.lease(1, "u", 2);
    p.lease(2, "u", 5);
    p.lease(3, "u", 1);
    p.giveBack("u", 2);
    p.lease(4, "u", 5);
    expect(p.replies).toEqual([
      { parleyLeased: { ref: 1, granted: 2, retryAfterSeconds: 0 } },
      { parleyLeased: { ref: 2, granted: 1, retryAfterSeconds: 0 } },
      // Empty: a token comes back in 1 ÷ 0.5 = 2 seconds.
      { parleyLeased: { ref: 3, granted: 0, retryAfterSeconds: 2 } },
      { parleyLeased: { ref: 4, granted: 2, retryAfterSeconds: 0 } },
    ]);
  });

  it("refuse a lease of a limit it does not know, retryably, and ignore tokens given back to one", () => {
    const p = primary({ perSecond: 0.5, burst: 3 });
    expect(() => p.lease(1, "u", 2, "noSuchLimit")).not.toThrow();
    expect(() => p.giveBack("u", 2, "noSuchLimit")).not.toThrow();
    p.lease(2, "u", 5);
    expect(p.replies).toEqual([
      { parleyLeased: { ref: 1, granted: 0, retryAfterSeconds: 1 } },
      { parleyLeased: { ref: 2, granted: 3, retryAfterSeconds: 0 } },
    ]);
  });

  it("ignore, without throwing, messages that are neither a lease request nor tokens given back", () => {
    const p = primary({ perSecond: 0.5, burst: 3 });
    const foreign = ["parleyLease", null, undefined, 42, {}, { relay: { parleyLease: 1 } }, { parleyLeased: { ref: 1, granted: 2, retryAfterSeconds: 0 } }];
    for (const message of foreign) expect(() => p.receive(message)).not.toThrow();
    expect(p.replies).toEqual([]);
    // Nothing was taken from the bucket, nor given to it.
    p.lease(1, "u", 5);
    expect(p.replies).toEqual([{ parleyLeased: { ref: 1, granted: 3, retryAfterSeconds: 0 } }]);
  });

  it("send no reply to a worker no longer connected", () => {
    const p = primary({ perSecond: 0.5, burst: 3 });
    p.disconnect();
    p.lease(1, "u", 1);
    expect(p.replies).toEqual([]);
  });

  it("answer nothing once stopped", () => {
    const p = primary({ perSecond: 0.5, burst: 3 });
    p.stop();
    p.lease(1, "u", 1);
    expect(p.replies).toEqual([]);
  });
});

describe("a worker's leased buckets", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setInterval"] }));
  afterEach(() => vi.useRealTimers());

  it("lease 1 token first, then twice the last, up to a quarter of the burst shared over the workers", async () => {
    // 80 ÷ (4 × 2 workers) = 10.
    const roomy = node({ perSecond: 0.001, burst: 80 }, 2);
    for (let i = 0; i < 30; i++) {
      expect(await admitted(roomy.buckets[0]!, "u", roomy.clock.now)).toBe(true);
      await turn();
    }
    expect(roomy.toPrimary).toEqual([1, 2, 4, 8, 10, 10].map((want) => ({ lease: "user/u", want })));
    // 3 ÷ (4 × 2) is less than one: leases of one token.
    const tight = node({ perSecond: 0.001, burst: 3 }, 2);
    for (let i = 0; i < 3; i++) expect(await admitted(tight.buckets[0]!, "u", tight.clock.now)).toBe(true);
    expect(tight.toPrimary).toEqual([1, 1, 1].map((want) => ({ lease: "user/u", want })));
  });

  it("ask for the next lease ahead only from leases of 4 tokens on, when a quarter is left", async () => {
    const w = worker(ROOMY);
    expect(await w.leased("u", 1)).toBe(0);
    expect(await w.leased("u", 2)).toBe(0);
    // The lease of 2 spent: nothing asked ahead (the next call will wait).
    expect(w.take("u")).toBe(0);
    expect(w.sent).toEqual([{ lease: "user/u", want: 1 }, { lease: "user/u", want: 2 }]);
    expect(await w.leased("u", 4)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(w.sent).toHaveLength(3);
    // One of 4 left: the next lease is asked for now.
    expect(w.take("u")).toBe(0);
    expect(w.sent).toEqual([1, 2, 4, 8].map((want) => ({ lease: "user/u", want })));
  });

  it("spend a lease's tokens for 1000 ms, then give back what is left and start over with 1 token", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("u", 1)).toBe(0);
    expect(await w.leased("u", 2)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(await w.leased("u", 4)).toBe(0); // 3 left, leased at `start`
    w.clock.now = start + 999;
    expect(w.take("u")).toBe(0); // 2 left
    expect(w.sent).toHaveLength(3);
    w.clock.now = start + 1000;
    const answer = w.take("u");
    expect(w.sent.slice(3)).toEqual([
      { giveBack: "user/u", tokens: 2 },
      { lease: "user/u", want: 1 },
    ]);
    w.answer(1);
    expect(await answer).toBe(0);
  });

  it("give back nothing when nothing is left, and lease twice as much for a key still in use", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("again", 1)).toBe(0);
    expect(await w.leased("later", 1)).toBe(0);
    w.clock.now = start + 999;
    expect(await w.leased("again", 2)).toBe(0);
    w.clock.now = start + 1000;
    expect(await w.leased("later", 1)).toBe(0);
    expect(w.sent).toEqual([
      { lease: "user/again", want: 1 },
      { lease: "user/later", want: 1 },
      { lease: "user/again", want: 2 },
      { lease: "user/later", want: 1 },
    ]);
  });

  it("never end a lease while its next one is asked for: its tokens are still spent", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("u", 1)).toBe(0);
    expect(await w.leased("u", 2)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(await w.leased("u", 4)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(w.take("u")).toBe(0); // 1 left; 8 asked for
    w.clock.now = start + 1000;
    expect(w.take("u")).toBe(0);
    w.answer(8);
    await turn();
    expect(w.take("u")).toBe(0);
    expect(w.sent).toEqual([1, 2, 4, 8].map((want) => ({ lease: "user/u", want })));
  });

  it("remember a refusal for 500 ms × burst ÷ perSecond, at most 50 ms", async () => {
    const fast = worker({ burst: 2, perSecond: 200 }); // 5 ms
    const start = fast.clock.now;
    expect(await fast.leased("u", 0, 2)).toBe(2);
    fast.clock.now = start + 4;
    expect(fast.take("u")).toBe(2);
    expect(fast.sent).toHaveLength(1);
    fast.clock.now = start + 5;
    expect(await fast.leased("u", 1)).toBe(0);

    const slow = worker({ burst: 1, perSecond: 1 }); // 500 ms, at most 50
    const slowStart = slow.clock.now;
    expect(await slow.leased("u", 0, 1)).toBe(1);
    slow.clock.now = slowStart + 49;
    expect(slow.take("u")).toBe(1);
    expect(slow.sent).toHaveLength(1);
    slow.clock.now = slowStart + 50;
    expect(await slow.leased("u", 1)).toBe(0);
  });

  it("ask again for a key within its lease as soon as a refusal is no longer remembered", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("u", 1)).toBe(0); // expires at start + 1000
    w.clock.now = start + 100;
    expect(await w.leased("u", 0, 3)).toBe(3); // refused until start + 150
    w.clock.now = start + 149;
    expect(w.take("u")).toBe(3);
    w.clock.now = start + 150;
    expect(await w.leased("u", 4)).toBe(0);
    expect(w.sent).toEqual([1, 2, 4].map((want) => ({ lease: "user/u", want })));
  });

  it("keep an expired lease while a refusal is remembered, then start over with 1 token", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("u", 1)).toBe(0); // expires at start + 1000
    w.clock.now = start + 960;
    expect(await w.leased("u", 0, 3)).toBe(3); // refused until start + 1010
    w.clock.now = start + 1009;
    expect(w.take("u")).toBe(3);
    w.clock.now = start + 1010;
    expect(await w.leased("u", 1)).toBe(0);
    expect(w.sent).toEqual([1, 2, 1].map((want) => ({ lease: "user/u", want })));
  });

  it("answer a call with a retryable refusal when the channel to the primary is gone", async () => {
    const w = worker(ROOMY, { sendsFail: true });
    expect(await afterTurns(w.take("u"))).toBe(1);
    // A refusal like any other: remembered for a moment.
    expect(w.take("u")).toBe(1);
    expect(w.sent).toEqual([{ lease: "user/u", want: 1 }]);
  });

  it("ignore, without throwing, messages that are not a reply to a request in flight", async () => {
    const w = worker(ROOMY);
    const foreign = ["parleyLeased", null, undefined, 42, {}, { parleyLease: { ref: 0, limit: "user", key: "u", want: 1 } }, { parleyLeased: { ref: 99, granted: 5, retryAfterSeconds: 0 } }];
    for (const message of foreign) expect(() => w.deliver(message)).not.toThrow();
    // Nothing was credited: the first call asks the primary.
    expect(await w.leased("u", 1)).toBe(0);
    expect(w.sent).toEqual([{ lease: "user/u", want: 1 }]);
  });

  it("credit a reply delivered twice once", async () => {
    const w = worker(ROOMY);
    expect(await w.leased("u", 1)).toBe(0);
    const answer = w.take("u");
    const reply = w.answer(2);
    expect(await answer).toBe(0); // 1 left
    expect(() => w.deliver(reply)).not.toThrow();
    expect(w.take("u")).toBe(0);
    // Had the copy been credited, 2 more would be left: the next call asks the primary.
    expect(w.take("u")).toBeInstanceOf(Promise);
    expect(w.sent).toEqual([1, 2, 4].map((want) => ({ lease: "user/u", want })));
  });

  it("sweep back the tokens of leases expired, not asking for more, not refused — and only those", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    // One token left of a lease at `start`.
    expect(await w.leased("old", 1)).toBe(0);
    expect(await w.leased("old", 2)).toBe(0);
    // None left of a lease at `start`.
    expect(await w.leased("spent", 1)).toBe(0);
    // Refused at start + 960 until start + 1010, after a lease at `start`.
    expect(await w.leased("refused", 1)).toBe(0);
    w.clock.now = start + 500;
    // One token left of a lease at start + 500.
    expect(await w.leased("young", 1)).toBe(0);
    expect(await w.leased("young", 2)).toBe(0);
    w.clock.now = start + 960;
    expect(await w.leased("refused", 0, 3)).toBe(3);
    // A first lease asked for and not answered yet.
    const waiting = w.take("waiting");
    const before = w.sent.length;

    w.sweep(start + 999);
    expect(w.sent.slice(before)).toEqual([]);
    w.sweep(start + 1000);
    expect(w.sent.slice(before)).toEqual([{ giveBack: "user/old", tokens: 1 }]);

    // The others are as they were: a refusal still remembered, a token still here, a lease still awaited.
    expect(w.take("refused")).toBe(3);
    expect(w.take("young")).toBe(0);
    w.answer(2);
    expect(await waiting).toBe(0);
    expect(w.take("waiting")).toBe(0);
    expect(w.sent.slice(before)).toEqual([{ giveBack: "user/old", tokens: 1 }]);
  });

  it("sweep back a refused lease's tokens once the refusal is over, and not before", async () => {
    const w = worker(ROOMY);
    const start = w.clock.now;
    expect(await w.leased("u", 1)).toBe(0);
    expect(await w.leased("u", 2)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(await w.leased("u", 4)).toBe(0);
    expect(w.take("u")).toBe(0);
    expect(w.take("u")).toBe(0); // 1 left; 8 asked for
    w.clock.now = start + 990;
    w.answer(0, 1); // refused until start + 1040
    await turn();
    w.sweep(start + 1039);
    expect(w.sent).toHaveLength(4);
    w.sweep(start + 1040);
    expect(w.sent.slice(4)).toEqual([{ giveBack: "user/u", tokens: 1 }]);
  });
});
