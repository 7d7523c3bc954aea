/** The fault suite, defined once and run over each transport (one test file per transport). */
import { afterAll, beforeAll, describe, it } from "vitest";
import { type Harness, startHarness } from "./harness.js";
import * as scenario from "./scenarios.js";

/** Makes the transport's app factory for a harness (its proxy URL); `setUp` runs once before the suite. */
export interface Transport {
  readonly label: string;
  appFor(h: Harness): scenario.AppFactory;
  setUp?(): Promise<void>;
  /** Env the transport needs on every server of the suite (read after setUp). */
  serverEnv?(): Record<string, string>;
  tearDown?(): Promise<void>;
}

const REPLAY_LIMIT = 25;

function log(name: string, summary: scenario.Summary): void {
  console.info(`${name}: ${summary.delivered} delivered once in order (${summary.acked} acknowledged), reasons seen: ${summary.reasons.join(", ")}`);
}

export function faultSuite(transport: Transport): void {
  describe(`@parley/client over ${transport.label}: every message once, in the server's order`, () => {
    beforeAll(async () => transport.setUp?.(), 120_000);
    afterAll(async () => transport.tearDown?.(), 30_000);

    describe(`a server with a 1 s heartbeat and REPLAY_LIMIT=${REPLAY_LIMIT}`, () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ REPLAY_LIMIT: String(REPLAY_LIMIT), ...transport.serverEnv?.() });
      });
      afterAll(async () => h?.close());

      it("through proxy cuts and a refusal", async () => log("cuts", await scenario.cutsAndRefusals(h, transport.appFor(h))), 120_000);
      it("through a gap longer than the replay, paged in order", async () => log("gap", await scenario.gapFilled(h, transport.appFor(h), REPLAY_LIMIT)), 60_000);
      it("through a dead connection, found by the heartbeat", async () => log("stall", await scenario.deadConnection(h, transport.appFor(h))), 60_000);
      it("through a token signed out mid-stream, resumed with a new one", async () => log("revoked", await scenario.tokenRevoked(h, transport.appFor(h))), 60_000);
      it("through a server stop (SIGTERM) and a crash (SIGKILL)", async () => log("restarts", await scenario.serverRestarts(h, transport.appFor(h))), 120_000);
    });

    describe("a server that ends slow streams quickly", () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ SLOW_CLIENT_SECONDS: "1", STREAM_QUEUE_LIMIT: "5", ...transport.serverEnv?.() });
      });
      afterAll(async () => h?.close());
      it("through RESOURCE_EXHAUSTED for a slow consumer", async () => log("slow", await scenario.slowConsumer(h, transport.appFor(h))), 120_000);
    });

    describe("a server with a tight per-user rate limit", () => {
      let h: Harness;
      beforeAll(async () => {
        h = await startHarness({ USER_RATE_LIMIT_PER_SECOND: "1", USER_RATE_LIMIT_BURST: "3", ...transport.serverEnv?.() });
      });
      afterAll(async () => h?.close());
      it("through refused reconnects, honouring Retry-After", async () => log("rate limit", await scenario.rateLimited(h, transport.appFor(h))), 60_000);
    });
  });
}
