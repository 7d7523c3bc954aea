/**
 * A node's rate-limit buckets shared by its workers through leases (cluster/node-buckets.ts),
 * over an in-process stand-in for the IPC channels (messages arrive on a later turn, in order,
 * as node:child_process delivers them) and on a clock the test moves. The promise under test:
 * however the calls fall on the workers, the node admits at most burst + perSecond × elapsed.
 */
import { EventEmitter } from "node:events";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it, vi } from "vitest";
import type { IpcPort } from "../../src/cluster/ipc.js";
import type { RelayCluster, RelayWorker } from "../../src/cluster/ipc.js";
import { leasedBuckets, serveNodeBuckets } from "../../src/cluster/node-buckets.js";
import type { Buckets, Rate, RateLimits } from "../../src/edges/admission/rate-limit.js";

/** A primary and `workers` workers joined by in-process channels; `sent` counts what workers sent. */
function node(rate: Rate, workers: number) {
  const clock = { now: 1_000_000 };
  const primarySide = new EventEmitter();
  const cluster: RelayCluster = {
    on: (event, listener) => primarySide.on(event, listener),
    off: (event, listener) => primarySide.off(event, listener),
  };
  const limits: RateLimits = { flood: rate, address: rate, user: rate, passwordAddress: rate, signInUsername: rate, passwordCallsPerAddress: 1 };
  serveNodeBuckets(cluster, limits, () => clock.now);
  let sent = 0;
  const buckets: Buckets[] = [];
  for (let i = 0; i < workers; i++) {
    const workerSide = new EventEmitter();
    const worker: RelayWorker = {
      isConnected: () => true,
      send: (message) => {
        setImmediate(() => workerSide.emit("message", message));
        return true;
      },
    };
    const port: IpcPort = {
      send: (message, callback) => {
        sent++;
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
  return { clock, buckets, sent: () => sent };
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
