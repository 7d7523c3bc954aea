/**
 * typing (issue #16): N subscribers of ONE room (with presence frames too under --presence),
 * then --rate MessageService.SetTyping calls per second for --duration seconds, at an even pace,
 * over gRPC from the coordinator. The typists are extra users who do not subscribe, so every
 * typing frame reaches all N subscribers: expected frames = accepted calls × N. There are
 * ceil(3 × rate) typists taking turns, so each types every 3 s — past the server's throttle
 * (one start per user and room per 2 s per process), which would otherwise drop calls silently.
 * No warm-up: a typist's warm-up call would throttle its first measured one.
 *
 * A typing frame carries no bench marker: its delivery latency is receipt − (until − 6 s), since
 * the server sets until = its Date.now() + TYPING_TTL when the call arrives. Both ends read the
 * same machine's wall clock (not the monotonic clock of the message markers), at 1 ms resolution.
 * Reports server CPU over the typing (CPU s, average and busiest-second cores), typing-frame
 * delivery p50/p99/max, and frames received / expected.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { addErrors, gather, latencyFigures, waitForDeliveries } from "../collect.js";
import { Histogram } from "../histogram.js";
import { LoadPool } from "../load/pool.js";
import { nowUs } from "../marker.js";
import { SOCKETS_PER_LOAD_PROCESS, type BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import type { RunFigures } from "../result.js";
import { ServerSampler } from "../sampler.js";
import { createRooms } from "../users.js";
import { connectAndMeasure, serverFigures } from "./measure.js";
import { parleyLabel, startParleyWithUsers } from "./parley.js";

/** Seconds between two calls of one typist: above the server's 2-s throttle window, with room for jitter. */
const TYPIST_PERIOD_S = 3;

export async function runTyping(options: BenchOptions, log: ProgressLog): Promise<RunFigures> {
  const n = options.users;
  const typistCount = Math.max(1, Math.ceil(options.rate * TYPIST_PERIOD_S));
  const run = await startParleyWithUsers(options, n + typistCount, log);
  const typists = run.users.slice(n);
  const [roomId] = await createRooms(run.postServer.url, typists[0]!, 1, "typing");
  const users = run.users.slice(0, n).map((u) => ({ id: u.id, token: u.token, roomId, roomSize: n }));
  const messages = createClient(MessageService, createGrpcTransport({ baseUrl: run.postServer.url }));
  const pool = new LoadPool(options.loadProcs ?? Math.max(1, Math.ceil(n / SOCKETS_PER_LOAD_PROCESS)), options.loadCpuProfDir);
  const sampler = new ServerSampler(run.server, true);
  try {
    const connected = await connectAndMeasure({ pool, sampler, log, options, via: options.via, users, room: true, dm: false });
    const errors: Record<string, number> = { ...connected.errors };
    const calls = Math.max(1, Math.round(options.rate * options.durationS));
    log.line(`typing: ${calls} SetTyping calls at ${options.rate}/s by ${typistCount} typists`);
    sampler.startLag();
    sampler.startCpu();
    const loadStart = sampler.stats();
    const loadCpuBefore = pool.cpuSeconds();
    const callLatency = new Histogram();
    let ok = 0;
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    let lastIssued = started;
    for (let i = 0; i < calls; i++) {
      const waitMs = started + (i * 1000) / options.rate - performance.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const typist = typists[i % typistCount]!;
      const sentUs = nowUs();
      lastIssued = performance.now();
      inFlight.push(
        messages.setTyping({ roomId: roomId!, stopped: false }, { headers: { authorization: `Bearer ${typist.token}` } }).then(
          () => {
            ok++;
            callLatency.record(nowUs() - sentUs);
          },
          (error: unknown) => {
            addErrors(errors, { typing_call_failed: 1 });
            log.line(`SetTyping failed: ${error instanceof Error ? error.message : String(error)}`);
          },
        ),
      );
    }
    await Promise.all(inFlight);
    // The calls' span: from the first to one period past the last (the rate actually kept).
    const elapsedS = (lastIssued - started) / 1000 + 1 / options.rate;
    const expected = ok * connected.subscriptions;
    await waitForDeliveries(pool, expected, 10_000, undefined, (s) => s.typingFrames);
    const cpu = sampler.stopCpu();
    const lagMs = await sampler.stopLag();
    const after = sampler.stats();
    const loadGenCpuS = Math.round((pool.cpuSeconds() - loadCpuBefore) * 100) / 100;
    const stats = await gather(pool);
    addErrors(errors, stats.errors);
    const delivered = stats.typingFrames;
    if (delivered !== expected) addErrors(errors, { [delivered < expected ? "missing" : "extra"]: Math.abs(expected - delivered) });
    return {
      target: parleyLabel(options),
      workload: "typing",
      via: options.via,
      users: n,
      subscriptions: connected.subscriptions,
      connectFailed: connected.failed,
      connectSeconds: connected.seconds,
      signupSeconds: run.signupSeconds,
      latency: latencyFigures(stats.typingLatency),
      lastReceiver: undefined,
      posts: {
        attempted: calls,
        ok,
        failed: calls - ok,
        skipped: 0,
        perSecond: Math.round((ok / Math.max(elapsedS, 0.001)) * 10) / 10,
        latency: latencyFigures(callLatency),
      },
      delivered,
      expected,
      // Typing frames carry no sequence number to sum: only the count is checked.
      checksumOk: true,
      persisted: undefined,
      errors,
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      errorSamples: stats.samples,
      server: serverFigures(connected, after, loadStart, lagMs, n),
      loadGenCpuS,
      ephemeral: {
        presence: options.presence,
        presenceFrames: stats.presenceFrames,
        presencePerSubscriber: Math.round((stats.presenceFrames / Math.max(1, connected.subscriptions)) * 100) / 100,
        presenceLag: undefined,
        openLatency: undefined,
        cpuCores: { avg: cpu.avgCores, peak: cpu.peakCores },
        typists: typistCount,
      },
    };
  } finally {
    await sampler.stopLag();
    sampler.stopCpu();
    await pool.close();
    await run.close();
  }
}
