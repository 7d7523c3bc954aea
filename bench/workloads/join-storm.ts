/**
 * join-storm (issue #16): N subscribers of ONE room, every stream asking for presence, open at an
 * even pace over --duration seconds (not as fast as possible: a steady stream of joins, as when a
 * big room fills up). Meanwhile one poster posts a marker message every --interval-ms, so the
 * delivery latency of messages during the storm is measured over whoever was subscribed when
 * each arrived (how many that is is not known in advance: there is no expected count for them).
 * Once everyone is in and deliveries went quiet, --messages check posts must reach all N exactly
 * (delivered / expected and the checksum are theirs).
 *
 * Reports: connect time (the storm's length, and each connection's attempt → ready p50/p99),
 * server CPU over the storm (CPU s, average and busiest-second cores), memory (with everyone
 * in, and peak), delivery p50/p99/max of the storm posts (their count is the p50 column's), and presence frames received in total and per subscriber — the point of batching:
 * about one per batch window (1 s) a subscriber was in the room during the storm, plus its
 * snapshot, not one per join — and the presence lag: from a user's connection attempt to the
 * first presence frame listing them as joined, seen on one observer stream per load process (its
 * first connection, which decodes its frames; users of other load processes, and those a
 * truncated frame — over 100 joins in a batch — leaves out, are not measured: see its count).
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { addErrors, gather, latencyFigures, waitForDeliveries, waitForQuiet } from "../collect.js";
import { Histogram } from "../histogram.js";
import { LoadPool } from "../load/pool.js";
import { markerText, nowUs } from "../marker.js";
import { SOCKETS_PER_LOAD_PROCESS, type BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import type { RunFigures } from "../result.js";
import { ServerSampler } from "../sampler.js";
import { createRooms } from "../users.js";
import { connectAndMeasure, serverFigures } from "./measure.js";
import { parleyLabel, startParleyWithUsers } from "./parley.js";

/** Marker origins: posts during the storm, and the check posts after it. */
const STORM = 0;
const CHECK = 1;

export async function runJoinStorm(options: BenchOptions, log: ProgressLog): Promise<RunFigures> {
  const n = options.users;
  const run = await startParleyWithUsers(options, n + 1, log);
  const poster = run.users[n]!;
  const [roomId] = await createRooms(run.postServer.url, poster, 1, "join-storm");
  const users = run.users.slice(0, n).map((u) => ({ id: u.id, token: u.token, roomId, roomSize: n }));
  const messages = createClient(MessageService, createGrpcTransport({ baseUrl: run.postServer.url }));
  const headers = { authorization: `Bearer ${poster.token}` };
  const post = async (origin: number, seq: number): Promise<void> =>
    void (await messages.postMessage({ roomId: roomId!, text: markerText(origin, seq, nowUs(), options.size) }, { headers }));
  const pool = new LoadPool(options.loadProcs ?? Math.max(1, Math.ceil(n / SOCKETS_PER_LOAD_PROCESS)), options.loadCpuProfDir);
  const sampler = new ServerSampler(run.server, true);
  const errors: Record<string, number> = {};
  try {
    // The poster posts from the storm's start until every attempt has become ready or failed.
    let storming = true;
    const postLatency = new Histogram();
    let attempted = 0;
    let ok = 0;
    const posting = (async () => {
      for (let seq = 0; storming; seq++) {
        const sentUs = nowUs();
        attempted++;
        try {
          await post(STORM, seq);
          ok++;
          postLatency.record(nowUs() - sentUs);
        } catch (error) {
          addErrors(errors, { post_failed: 1 });
          log.line(`post failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        await new Promise((r) => setTimeout(r, options.intervalMs));
      }
    })();
    log.line(`join storm: ${n} subscribers with presence over ${options.durationS} s, a post every ${options.intervalMs} ms`);
    sampler.startLag();
    sampler.startCpu();
    const loadCpuBefore = pool.cpuSeconds();
    let cpu = { avgCores: 0, peakCores: 0 };
    let stormStats = sampler.stats();
    const connected = await connectAndMeasure({
      pool,
      sampler,
      log,
      options,
      via: options.via,
      users,
      room: true,
      dm: false,
      presence: true,
      spreadMs: options.durationS * 1000,
      onAllOpen: () => {
        storming = false;
        cpu = sampler.stopCpu();
        stormStats = sampler.stats();
      },
    });
    await posting;
    // Storm posts reach whoever was in the room then: wait until deliveries stop, not for a count.
    await waitForQuiet(pool, 1000, 10_000);
    const lagMs = await sampler.stopLag();
    const loadGenCpuS = Math.round((pool.cpuSeconds() - loadCpuBefore) * 100) / 100;
    const storm = await gather(pool);
    addErrors(errors, storm.errors);

    log.line(`checking: ${options.messages} posts must reach all ${connected.subscriptions}`);
    for (let seq = 0; seq < options.messages; seq++) {
      await post(CHECK, seq).catch(() => addErrors(errors, { check_post_failed: 1 }));
      if (seq + 1 < options.messages) await new Promise((r) => setTimeout(r, options.intervalMs));
    }
    const expected = options.messages * connected.subscriptions;
    await waitForDeliveries(pool, storm.received + expected, 10_000 + options.intervalMs * 2);
    const after = sampler.stats();
    const final = await gather(pool);
    // Errors of the check phase only (the storm's are counted above).
    for (const [kind, count] of Object.entries(final.errors)) addErrors(errors, { [kind]: count - (storm.errors[kind] ?? 0) });
    const delivered = final.byOrigin.get(CHECK)?.count ?? 0;
    if (delivered !== expected) addErrors(errors, { [delivered < expected ? "missing" : "extra"]: Math.abs(expected - delivered) });
    const checksumOk = ((options.messages * (options.messages - 1)) / 2) * connected.subscriptions === (final.byOrigin.get(CHECK)?.checksum ?? 0);
    return {
      target: parleyLabel(options),
      workload: "join-storm",
      via: options.via,
      users: n,
      subscriptions: connected.subscriptions,
      connectFailed: connected.failed,
      connectSeconds: connected.seconds,
      signupSeconds: run.signupSeconds,
      latency: latencyFigures(storm.latency),
      lastReceiver: undefined,
      posts: {
        attempted,
        ok,
        failed: attempted - ok,
        skipped: 0,
        perSecond: Math.round((ok / Math.max(connected.seconds, 0.001)) * 10) / 10,
        latency: latencyFigures(postLatency),
      },
      delivered,
      expected,
      checksumOk,
      persisted: undefined,
      errors,
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      errorSamples: final.samples,
      // "connect" CPU is the storm's; "load" CPU the settling, the quiet wait and the check posts.
      server: serverFigures(connected, after, stormStats, lagMs, n),
      loadGenCpuS,
      ephemeral: {
        presence: true,
        presenceFrames: final.presenceFrames,
        presencePerSubscriber: Math.round((final.presenceFrames / Math.max(1, connected.subscriptions)) * 100) / 100,
        presenceLag: latencyFigures(final.presenceLag),
        openLatency: latencyFigures(connected.openLatency),
        cpuCores: { avg: cpu.avgCores, peak: cpu.peakCores },
        typists: undefined,
      },
    };
  } finally {
    await sampler.stopLag();
    sampler.stopCpu();
    await pool.close();
    await run.close();
  }
}
