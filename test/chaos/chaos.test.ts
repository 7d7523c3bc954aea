/**
 * The chaos suite (issue #12): two Parley nodes on a Kafka and a Cassandra of its own, concurrent
 * posters and subscribers (WebSocket, SSE, gRPC) on both, and one fault per scenario — a node
 * killed, Kafka paused or killed, Cassandra paused, a node's clock skewed. A scenario fails when
 * any subscriber lost an acknowledged message, received one twice or out of its channel's order,
 * or when an acknowledged message is missing from the store; its row in RELIABILITY.md is
 * rewritten either way (see RELIABILITY.md for the rule, the seed and how to run one scenario).
 *
 * Runs in CI, and locally wherever the shared engines are configured (KAFKA_BROKERS and
 * CASSANDRA_CONTACT_POINTS set: Java and the engines' jars are there); CHAOS=off skips it.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import type { Deployment } from "./nodes.js";
import { startPrivateEngines, type PrivateEngines } from "./private-engines.js";
import { describeFailure, failures, writeReport } from "./report.js";
import { runScenario, type ScenarioResult } from "./run-scenario.js";
import { DEFAULT_CHAOS_SEED, SCENARIOS } from "./scenarios.js";

const enabled = process.env["CHAOS"] !== "off" && (!!process.env["CI"] || (!!process.env["KAFKA_BROKERS"] && !!process.env["CASSANDRA_CONTACT_POINTS"]));

/** CHAOS_SEED, else the fixed default. */
function chaosSeed(): number {
  const raw = process.env["CHAOS_SEED"];
  if (raw === undefined || raw === "") return DEFAULT_CHAOS_SEED;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`CHAOS_SEED must be an integer, got ${raw}`);
  return seed;
}

if (!enabled) {
  describe.skip("chaos (needs Java and the engines' jars: run where KAFKA_BROKERS and CASSANDRA_CONTACT_POINTS are set, or in CI; CHAOS=off skips)", () => {
    it("runs the chaos scenarios", () => undefined);
  });
} else {
  describe("chaos: two nodes on private Kafka + Cassandra", () => {
    const seed = chaosSeed();
    const suffix = randomBytes(4).toString("hex");
    let engines: PrivateEngines | undefined;
    let deployment: Deployment;
    const results: ScenarioResult[] = [];

    beforeAll(async () => {
      engines = await startPrivateEngines();
      deployment = {
        engines: engines.env,
        keyspace: `parley_chaos_${suffix}`,
        topicPrefix: `parley-chaos-${suffix}`,
        tokenKeyPem: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      };
    }, 300_000);

    afterAll(async () => {
      // Keep the engines' logs when something failed.
      const failed = results.some((r) => failures(r).length > 0) || results.length === 0;
      if (failed && engines) console.log(`chaos: engine logs kept in ${engines.home}`);
      await engines?.stop(failed);
    }, 120_000);

    for (const scenario of SCENARIOS) {
      // Set-up, load, fault, drain and check; the engines may need to come back first.
      const budgetMs = (scenario.postSeconds + 150) * 1000;
      it(scenario.name, async () => {
        await engines!.ensureRunning();
        const result = await runScenario(scenario, deployment, engines!, seed);
        results.push(result);
        writeReport([result], SCENARIOS.map((s) => s.name));
        const problems = failures(result);
        if (problems.length > 0) throw new Error(describeFailure(result, problems));
      }, budgetMs);
    }
  });
}
