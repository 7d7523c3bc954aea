/**
 * The chaos scenarios, in the order they run. Each is short (tens of seconds of posting at
 * 50 posts/s); times are from the start of posting. The engines keep running between scenarios
 * (a scenario that kills Kafka starts it again, on the same data); the nodes are new for each.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { chatClients, newUser } from "../support/clients.js";
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
    description:
      "Kafka SIGSTOPped from 5 s to 23 s; at 8 s a user signs out on A while its stream is open on B; a user with a room open on A stays present on B throughout (a bus outage past PRESENCE_TTL expires nobody)",
    postSeconds: 33,
    bounds: { worstAnswerMs: 6000, recoveryMs: 10_000, forbidden: ["internal", "unknown"] },
    fault: async (ctx) => {
      const revoked = await streamOnB(ctx);
      const presence = await presentOnA(ctx);
      await ctx.at(5000);
      await paused(ctx, "kafka", async () => {
        await ctx.at(8000);
        await revoked.signOutOnA();
        // 17.5 s into the pause: past any origin's last report + PRESENCE_TTL + a batch (≤ 16 s).
        await ctx.at(22_500);
        await presence.check("after 17.5 s of Kafka paused");
        await ctx.at(23_000);
      });
      await ctx.at(31_000);
      await presence.check("8 s after Kafka resumed");
      presence.close();
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

/**
 * A user with a room's stream open on node A, seen from node B: check() records a failure unless
 * every worker of B that answers GetRoomPresence lists them (asked a few times: workers answer in
 * turn). Presence is ephemeral, but a bus outage must not empty it (DESIGN.md, "Presence").
 */
async function presentOnA(ctx: FaultContext): Promise<{ check(when: string): Promise<void>; close(): void }> {
  const [stayer, watcher] = [await newUser(ctx.nodes.url("a")), await newUser(ctx.nodes.url("b"))];
  const { room } = await stayer.clients.rooms.createRoom({ name: `presence-${Date.now().toString(36)}` });
  const roomId = room!.roomId;
  const abort = new AbortController();
  void (async () => {
    try {
      for await (const _frame of stayer.clients.messages.subscribeRoom({ roomId }, { signal: abort.signal })) {
        // Being open is the point.
      }
    } catch {
      // Ended by close(), or by node A's faults: check() tells.
    }
  })();
  const onB = chatClients(ctx.nodes.url("b"), watcher.token);
  const listed = async () => (await onB.rooms.getRoomPresence({ roomId })).users.some((u) => u.userId === stayer.user.userId);
  const started = Date.now();
  while (!(await listed().catch(() => false))) {
    if (Date.now() - started > 10_000) {
      ctx.fail("a user with a room open on A never showed as present on B");
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    async check(when) {
      for (let i = 0; i < 4; i++) {
        const present = await listed().catch((error: unknown) => {
          ctx.fail(`GetRoomPresence on B failed ${when}: ${ConnectError.from(error).message}`);
          return true;
        });
        if (!present) return ctx.fail(`a user with a room open on A was missing from B's presence ${when}`);
      }
    },
    close: () => abort.abort(),
  };
}

/** How long a revocation may take to end a token's streams on another node with the bus down (one 5 s sweep, plus margin). */
const REVOCATION_BOUND_MS = 8000;

/**
 * A user signed in on node A with a direct-message stream open on node B. signOutOnA() signs out
 * on A (with the bus paused: the revocation reaches B only through the store) and records a
 * failure unless the sign-out succeeds within 2 s and B ends the stream UNAUTHENTICATED within
 * REVOCATION_BOUND_MS.
 */
async function streamOnB(ctx: FaultContext): Promise<{ signOutOnA(): Promise<void> }> {
  const user = await newUser(ctx.nodes.url("a"));
  const onB = chatClients(ctx.nodes.url("b"), user.token);
  const abort = new AbortController();
  const ended = (async () => {
    try {
      for await (const _frame of onB.messages.subscribeDirectMessages({}, { signal: abort.signal })) {
        // Frames are not the point: the stream's end is.
      }
      return { at: Date.now(), code: undefined };
    } catch (error) {
      return { at: Date.now(), code: ConnectError.from(error).code };
    }
  })();
  return {
    async signOutOnA() {
      const started = Date.now();
      try {
        await user.clients.auth.signOut({});
      } catch (error) {
        ctx.fail(`sign-out on A with Kafka paused failed: ${ConnectError.from(error).message}`);
        abort.abort();
        return;
      }
      const signOutMs = Date.now() - started;
      if (signOutMs > 2000) ctx.fail(`sign-out on A with Kafka paused took ${signOutMs} ms`);
      const timer = setTimeout(() => abort.abort(), REVOCATION_BOUND_MS);
      const end = await ended;
      clearTimeout(timer);
      if (end.code !== Code.Unauthenticated) {
        ctx.fail(`B's stream of the signed-out token ${end.code === Code.Canceled ? `was still open ${REVOCATION_BOUND_MS} ms after sign-out` : `ended with ${end.code === undefined ? "no error" : Code[end.code]}`}`);
      }
    },
  };
}
