/**
 * The load bench's smoke run: `fanout` and `chat` at N = 200 for a few seconds, through the
 * bench's own code (server process, load processes, report figures). It asserts that every
 * message was delivered and nothing failed — never anything about time; figures come from
 * `npm run bench`, not from tests.
 */
import { describe, expect, it } from "vitest";
import { runBench } from "../../bench/run.js";
import { parseOptions } from "../../bench/options.js";
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
