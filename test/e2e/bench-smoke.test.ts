/**
 * The load bench's smoke run: `fanout` and `chat` at N = 200 for a few seconds, and `fanout
 * --presence`, `join-storm` and `typing` at N = 20 (issue #16), through the bench's own code
 * (server process, load processes, report figures). It asserts that every message (or typing
 * frame) was delivered and nothing failed — never anything about time; figures come from
 * `npm run bench`, not from tests.
 */
import { describe, expect, it } from "vitest";
import { runBench } from "../../bench/run.js";
import { parseOptions, UsageError } from "../../bench/options.js";
import { formatResult } from "../../bench/report.js";
import type { RunFigures } from "../../bench/result.js";

async function bench(args: string[]): Promise<RunFigures> {
  const result = await runBench(parseOptions([...args, "--no-append", "--quiet"]), `smoke ${args.join(" ")}`);
  expect(result.runs).toHaveLength(1);
  return result.runs[0]!;
}

function expectAllDelivered(run: RunFigures): void {
  expect({ errors: run.errors, samples: run.errorSamples }).toEqual({ errors: {}, samples: [] });
  expect(run.connectFailed).toBe(0);
  expect(run.expected).toBeGreaterThan(0);
  expect(run.delivered).toBe(run.expected);
  expect(run.checksumOk).toBe(true);
  expect(run.posts.failed).toBe(0);
}

describe("bench smoke (N = 200)", () => {
  it("fanout over WebSocket: every subscriber gets every message", async () => {
    const run = await bench(["fanout", "--users", "200", "--messages", "5", "--interval-ms", "100", "--via", "ws"]);
    expect(run.subscriptions).toBe(200);
    expect(run.posts.ok).toBe(5);
    expect(run.expected).toBe(5 * 200);
    expectAllDelivered(run);
  });

  for (const via of ["grpc", "connect"]) {
    it(`fanout over ${via} (lean subscribers): every subscriber gets every message`, async () => {
      const run = await bench(["fanout", "--users", "200", "--messages", "5", "--interval-ms", "100", "--via", via]);
      expect(run.subscriptions).toBe(200);
      expect(run.posts.ok).toBe(5);
      expect(run.expected).toBe(5 * 200);
      expectAllDelivered(run);
    });

    it(`chat over ${via}: room and DM streams of each user get every message`, async () => {
      const run = await bench(["chat", "--users", "200", "--rate", "100", "--duration", "2", "--via", via]);
      expect(run.subscriptions).toBe(400);
      expect(run.posts.ok).toBeGreaterThan(50);
      expectAllDelivered(run);
    });
  }

  it("chat: room posts and DMs reach every subscriber", async () => {
    const run = await bench(["chat", "--users", "200", "--rate", "100", "--duration", "3"]);
    expect(run.subscriptions).toBe(400);
    expect(run.posts.ok).toBeGreaterThan(100);
    expectAllDelivered(run);
  });

  it("a sweep runs every point and names where the workload breaks", async () => {
    const result = await runBench(
      parseOptions(["chat", "--users", "100,200", "--rate", "50", "--duration", "2", "--no-append", "--quiet"]),
      "smoke sweep",
    );
    expect(result.runs.map((r) => r.users)).toEqual([100, 200]);
    for (const run of result.runs) expectAllDelivered(run);
    expect(formatResult(result)).toMatch(/^Breaking point: /m);
  });
});

describe("bench smoke: presence and typing (#16, N = 20)", () => {
  // Every via that can ask for presence: each stream gets at least its snapshot, and the frames
  // are counted apart from the messages (which all arrive, none counted twice or as unexpected).
  for (const via of ["ws", "ws-mux", "grpc", "connect", "sse"]) {
    it(`fanout --presence over ${via}: every message delivered, presence frames counted apart`, async () => {
      const run = await bench(["fanout", "--users", "20", "--messages", "3", "--warmup", "1", "--interval-ms", "100", "--via", via, "--presence"]);
      expect(run.subscriptions).toBe(20);
      expect(run.expected).toBe(3 * 20);
      expectAllDelivered(run);
      expect(run.ephemeral?.presence).toBe(true);
      expect(run.ephemeral!.presenceFrames).toBeGreaterThanOrEqual(20);
    });
  }

  it("fanout without --presence receives no presence frames and reports none", async () => {
    const run = await bench(["fanout", "--users", "20", "--messages", "2", "--warmup", "0", "--interval-ms", "100"]);
    expectAllDelivered(run);
    expect(run.ephemeral).toBeUndefined();
  });

  // ws-mux reads presence frames as ws does, connect as grpc does (frame-follower.ts).
  for (const via of ["ws", "grpc", "sse"]) {
    it(`join-storm over ${via}: paced joins with presence, posts during the storm, then the check posts reach everyone`, async () => {
      const result = await runBench(parseOptions(["join-storm", "--users", "20", "--duration", "3", "--via", via, "--no-append", "--quiet"]), "smoke join-storm");
      const run = result.runs[0]!;
      expect(run.workload).toBe("join-storm");
      expect(run.subscriptions).toBe(20);
      // Opening was spread over the storm, not done at once: the last slot starts 19/20 of 3 s in.
      expect(run.connectSeconds).toBeGreaterThanOrEqual(2.85);
      expect(run.expected).toBe(5 * 20);
      expectAllDelivered(run);
      expect(run.posts.ok).toBeGreaterThan(0);
      expect(run.latency.count).toBeGreaterThan(0);
      const e = run.ephemeral!;
      expect(e.openLatency?.count).toBe(20);
      expect(e.cpuCores?.peak).toBeGreaterThan(0);
      // A snapshot each, and batches — far fewer than one frame per join per subscriber.
      expect(e.presenceFrames).toBeGreaterThanOrEqual(20);
      expect(e.presencePerSubscriber).toBeLessThan(20);
      // The observer (the first stream) sees every later join listed (batches of 100 or fewer are never truncated).
      expect(e.presenceLag?.count).toBeGreaterThanOrEqual(19);
      expect(formatResult(result)).toMatch(/Presence and typing \(#16\)/);
    });
  }

  for (const [via, presence] of [["ws", false], ["grpc", true], ["sse", true], ["ws-mux", false], ["connect", false]] as const) {
    it(`typing over ${via}${presence ? " --presence" : ""}: every call's frame reaches every subscriber, timed`, async () => {
      const run = await bench(["typing", "--users", "20", "--rate", "5", "--duration", "2", "--via", via, ...(presence ? ["--presence"] : [])]);
      expect(run.workload).toBe("typing");
      expect(run.posts.ok).toBe(10);
      expect(run.expected).toBe(10 * 20);
      expectAllDelivered(run);
      expect(run.latency.count).toBe(10 * 20);
      expect(run.ephemeral?.typists).toBe(15);
      if (presence) expect(run.ephemeral!.presenceFrames).toBeGreaterThanOrEqual(20);
      else expect(run.ephemeral!.presenceFrames).toBe(0);
    });
  }

  it("refuses --presence where no room stream can ask for it", () => {
    expect(() => parseOptions(["fanout", "--via", "bare", "--presence"])).toThrow(UsageError);
    expect(() => parseOptions(["typing", "--via", "bare"])).toThrow(UsageError);
    expect(() => parseOptions(["join-storm", "--via", "bare"])).toThrow(UsageError);
    expect(() => parseOptions(["baseline", "--presence"])).toThrow(UsageError);
    expect(() => parseOptions(["ingest", "--presence"])).toThrow(UsageError);
    expect(parseOptions(["join-storm"])).toMatchObject({ users: 10_000, durationS: 60, presence: true, intervalMs: 200 });
    expect(parseOptions(["typing"])).toMatchObject({ users: 10_000, durationS: 30, rate: 10, presence: false });
  });
});
