/**
 * fanout: N users subscribe to ONE room; once all are in, one more user posts M messages, a
 * pause apart. Measures delivery latency over all N × M receipts, the time until the last
 * receiver had each message, the time to connect all N, and the server's memory and CPU.
 * `--warmup K` unmeasured posts go first (default 3), for Parley and the baseline alike.
 * The same code measures the bare ws baseline (target "bare").
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { Histogram } from "../histogram.js";
import { markerText, nowUs } from "../marker.js";
import { addErrors, gather, latencyFigures, waitForDeliveries } from "../collect.js";
import { LoadPool } from "../load/pool.js";
import type { LoadUser } from "../load/protocol.js";
import { SOCKETS_PER_LOAD_PROCESS, type BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import type { RunFigures } from "../result.js";
import { ServerSampler } from "../sampler.js";
import { startBaseline, type ServerProcess } from "../servers.js";
import { createRooms } from "../users.js";
import { parleyLabel, startParleyWithUsers } from "./parley.js";
import { connectAndMeasure, presenceFigures, serverFigures } from "./measure.js";

/** Marker origins of the fan-out poster, and of its unmeasured warm-up posts. */
const POSTER = 0;
const WARMUP = 99;

export async function runFanout(options: BenchOptions, target: "parley" | "bare", log: ProgressLog): Promise<RunFigures> {
  const n = options.users;
  let server: ServerProcess;
  let users: LoadUser[];
  let post: (text: string) => Promise<void>;
  let close: () => Promise<void>;
  let signupSeconds = 0;
  if (target === "parley") {
    const run = await startParleyWithUsers(options, n + 1, log);
    server = run.server;
    signupSeconds = run.signupSeconds;
    close = () => run.close();
    const poster = run.users[n]!;
    const [roomId] = await createRooms(run.postServer.url, poster, 1, "fanout");
    users = run.users.slice(0, n).map((u) => ({ id: u.id, token: u.token, roomId, roomSize: n }));
    const messages = createClient(MessageService, createGrpcTransport({ baseUrl: run.postServer.url }));
    const headers = { authorization: `Bearer ${poster.token}` };
    post = async (text) => void (await messages.postMessage({ roomId: roomId!, text }, { headers }));
  } else {
    server = await startBaseline(options.cpuProfDir, options.serverNice);
    close = () => server.stop();
    users = Array.from({ length: n }, (_, i) => ({ id: String(i), token: "", roomId: undefined, roomSize: n }));
    post = async (text) => {
      const { status } = await server.post("/publish", text);
      if (status !== 204) throw new Error(`publish answered ${status}`);
    };
  }
  const via = target === "bare" ? "bare" : options.via;
  const pool = new LoadPool(options.loadProcs ?? Math.max(1, Math.ceil(n / SOCKETS_PER_LOAD_PROCESS)), options.loadCpuProfDir);
  const sampler = new ServerSampler(server, target === "parley");
  try {
    const connected = await connectAndMeasure({ pool, sampler, log, options, via, users, room: true, dm: false });
    const errors: Record<string, number> = { ...connected.errors };
    if (options.warmup > 0) {
      // Unmeasured posts first, the same for every server: a running server is a warm one.
      log.line(`warming up: ${options.warmup} posts`);
      for (let seq = 0; seq < options.warmup; seq++) {
        await post(markerText(WARMUP, seq, nowUs(), options.size)).catch(() => addErrors(errors, { warmup_post_failed: 1 }));
        await new Promise((r) => setTimeout(r, options.intervalMs));
      }
      await waitForDeliveries(pool, options.warmup * connected.subscriptions, 10_000);
      addErrors(errors, (await gather(pool)).errors);
      await pool.all(() => ({ op: "reset" as const }));
    }
    log.line(`posting ${options.messages} messages, ${options.intervalMs} ms apart`);
    sampler.startLag();
    const loadStart = sampler.stats();
    const loadCpuBefore = pool.cpuSeconds();
    const postLatency = new Histogram();
    let ok = 0;
    for (let seq = 0; seq < options.messages; seq++) {
      const sentUs = nowUs();
      try {
        await post(markerText(POSTER, seq, sentUs, options.size));
        ok++;
        postLatency.record(nowUs() - sentUs);
      } catch (error) {
        addErrors(errors, { post_failed: 1 });
        log.line(`post failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (seq + 1 < options.messages) await new Promise((r) => setTimeout(r, options.intervalMs));
    }
    const expected = ok * connected.subscriptions;
    await waitForDeliveries(pool, expected, 10_000 + options.intervalMs * 2, () => undefined);
    const lagMs = await sampler.stopLag();
    const after = sampler.stats();
    const loadGenCpuS = Math.round((pool.cpuSeconds() - loadCpuBefore) * 100) / 100;
    const stats = await gather(pool, POSTER);
    addErrors(errors, stats.errors);
    const last = new Histogram();
    for (const latency of stats.lastBySeq.values()) last.record(latency);
    const delivered = stats.byOrigin.get(POSTER)?.count ?? 0;
    if (delivered !== expected) addErrors(errors, { [delivered < expected ? "missing" : "extra"]: Math.abs(expected - delivered) });
    const expectedChecksum = ((ok * (ok - 1)) / 2) * connected.subscriptions;
    const checksumOk = ok === options.messages && (stats.byOrigin.get(POSTER)?.checksum ?? 0) === expectedChecksum;
    return {
      target: target === "bare" ? "bare ws" : parleyLabel(options),
      workload: "fanout",
      via,
      users: n,
      subscriptions: connected.subscriptions,
      connectFailed: connected.failed,
      connectSeconds: connected.seconds,
      signupSeconds,
      latency: latencyFigures(stats.latency),
      lastReceiver: latencyFigures(last),
      posts: {
        attempted: options.messages,
        ok,
        failed: options.messages - ok,
        skipped: 0,
        perSecond: options.intervalMs > 0 ? 1000 / options.intervalMs : 0,
        latency: latencyFigures(postLatency),
      },
      delivered,
      expected,
      checksumOk,
      persisted: undefined,
      errors,
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      errorSamples: stats.samples,
      server: serverFigures(connected, after, loadStart, lagMs, n),
      loadGenCpuS,
      ephemeral: presenceFigures(options, stats.presenceFrames, connected.subscriptions),
    };
  } finally {
    await sampler.stopLag();
    await pool.close();
    await close();
  }
}
