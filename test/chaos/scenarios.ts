/**
 * The chaos scenarios, in the order they run. Each is short (tens of seconds of posting at
 * 50 posts/s); times are from the start of posting. The engines keep running between scenarios
 * (a scenario that kills Kafka starts it again, on the same data); the nodes are new for each.
 */
import type { FaultContext, Scenario } from "./run-scenario.js";

/** The default of CHAOS_SEED: fixed, so two runs of one commit make the same choices. */
export const DEFAULT_CHAOS_SEED = 20_261_212;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "no-faults",
    description: "two nodes, nothing goes wrong",
    postSeconds: 15,
  },
  {
    name: "node-kill",
    description: "node A (WORKERS=2 on both nodes) SIGKILLed at 6 s; its clients retry posts and resume streams on B",
    nodes: { a: { workers: 2 }, b: { workers: 2 } },
    postSeconds: 18,
    fault: async (ctx) => {
      await ctx.at(6000);
      ctx.begin();
      await ctx.nodes.kill("a");
      ctx.end();
    },
  },
  {
    name: "kill-before-publish",
    description: "Kafka SIGSTOPped at 5 s so posts on A wait to be appended (or appended, not yet answered); A SIGKILLed at 8 s; Kafka SIGCONT at 9 s; clients retry on B",
    postSeconds: 20,
    fault: async (ctx) => {
      await ctx.at(5000);
      await paused(ctx, "kafka", async () => {
        await ctx.at(8000);
        await ctx.nodes.kill("a");
        await ctx.at(9000);
      });
    },
  },
  {
    name: "kafka-pause",
    description: "Kafka SIGSTOPped from 5 s to 20 s",
    postSeconds: 30,
    bounds: { worstAnswerMs: 6000, recoveryMs: 10_000, forbidden: ["internal", "unknown"] },
    fault: async (ctx) => {
      await ctx.at(5000);
      await paused(ctx, "kafka", () => ctx.at(20_000));
    },
  },
  {
    name: "kafka-kill",
    description: "Kafka SIGKILLed at 5 s, started again (same data) at 20 s; the fault ends when it answers",
    postSeconds: 45,
    bounds: { worstAnswerMs: 6000, recoveryMs: 10_000, forbidden: ["internal", "unknown"] },
    fault: async (ctx) => {
      await ctx.at(5000);
      ctx.begin();
      ctx.engines.signal("kafka", "SIGKILL");
      await ctx.at(20_000);
      await ctx.engines.restartKafka();
      ctx.end();
    },
  },
  {
    name: "cassandra-pause",
    description: "Cassandra SIGSTOPped from 5 s to 15 s (posts should fail UNAVAILABLE within 2 s)",
    postSeconds: 25,
    bounds: { worstAnswerMs: 2500, recoveryMs: 10_000, forbidden: ["internal", "unknown"] },
    fault: async (ctx) => {
      await ctx.at(5000);
      await paused(ctx, "cassandra", () => ctx.at(15_000));
    },
  },
  {
    name: "clock-minus-2s",
    description: "node B's clock 2 s behind (libfaketime)",
    nodes: { b: { clockSkewSeconds: -2 } },
    postSeconds: 15,
  },
  {
    name: "clock-plus-2s",
    description: "node B's clock 2 s ahead (libfaketime); WORKERS=2 on both nodes",
    nodes: { a: { workers: 2 }, b: { workers: 2, clockSkewSeconds: 2 } },
    postSeconds: 15,
  },
];

/** SIGSTOP the engine, run `during`, SIGCONT it — even if `during` fails; the fault window is the pause. */
async function paused(ctx: FaultContext, engine: "kafka" | "cassandra", during: () => Promise<void>): Promise<void> {
  ctx.begin();
  ctx.engines.signal(engine, "SIGSTOP");
  try {
    await during();
  } finally {
    ctx.engines.signal(engine, "SIGCONT");
    ctx.end();
  }
}
