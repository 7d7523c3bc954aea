/**
 * chat: N users, each subscribed to its direct messages and to one of ⌈N / room size⌉ rooms
 * (20 a room by default). The load processes post an aggregate R posts/s for T seconds as their
 * own users (80 % to the poster's room, 20 % as DMs to a random user), open-loop. Every post
 * that the server acknowledged must reach every subscriber of its channel: delivered must equal
 * expected, with matching checksums, and there must be no errors.
 */
import { Histogram } from "../histogram.js";
import { addErrors, gather, latencyFigures, waitForDeliveries } from "../collect.js";
import { LoadPool } from "../load/pool.js";
import type { LoadUser } from "../load/protocol.js";
import { LOCAL_ADDRESSES, SOCKETS_PER_LOAD_PROCESS, type BenchOptions } from "../options.js";
import type { ProgressLog } from "../progress.js";
import type { RunFigures } from "../result.js";
import { ServerSampler } from "../sampler.js";
import { createRooms } from "../users.js";
import { connectAndMeasure, presenceFigures, serverFigures } from "./measure.js";
import { parleyLabel, startParleyWithUsers } from "./parley.js";

/** Most posts one load process keeps in flight before it counts posts as skipped. */
const MAX_IN_FLIGHT = 5000;

export async function runChat(options: BenchOptions, log: ProgressLog): Promise<RunFigures> {
  const n = options.users;
  const size = options.roomSize;
  const run = await startParleyWithUsers(options, n, log);
  const roomCount = Math.ceil(n / size);
  log.line(`creating ${roomCount} rooms`);
  const rooms = await createRooms(run.server.url, run.users[0]!, roomCount, "chat");
  const users: LoadUser[] = run.users.map((u, i) => {
    const r = Math.floor(i / size);
    return { id: u.id, token: u.token, roomId: rooms[r], roomSize: Math.min(size, n - r * size) };
  });
  const perUser = options.via === "grpc" || options.via === "ws-mux" ? 1 : 2;
  const pool = new LoadPool(options.loadProcs ?? Math.max(1, Math.ceil((n * perUser) / SOCKETS_PER_LOAD_PROCESS)), options.loadCpuProfDir);
  const sampler = new ServerSampler(run.server, true);
  try {
    const connected = await connectAndMeasure({ pool, sampler, log, options, via: options.via, users, room: true, dm: true });
    const errors: Record<string, number> = { ...connected.errors };
    log.line(`posting ${options.rate}/s for ${options.durationS} s (${Math.round(options.dmShare * 100)} % DMs)`);
    sampler.startLag();
    const loadStart = sampler.stats();
    const loadCpuBefore = pool.cpuSeconds();
    const stopTraffic = log.watchTraffic(pool);
    const procs = pool.processes.length;
    let posted;
    try {
      posted = await pool.all((i) => ({
        op: "chat" as const,
        target: { host: "127.0.0.1", port: run.server.port },
        origin: i + 1,
        ratePerSecond: options.rate / procs,
        durationMs: options.durationS * 1000,
        dmShare: options.dmShare,
        postVia: options.postVia,
        allUserIds: users.map((u) => u.id),
        textSize: options.size,
        maxInFlight: MAX_IN_FLIGHT,
        localAddresses: LOCAL_ADDRESSES,
      }));
      const expected = posted.reduce((sum, p) => sum + p.expectedDeliveries, 0);
      await waitForDeliveries(pool, expected, 15_000);
    } finally {
      stopTraffic();
    }
    const lagMs = await sampler.stopLag();
    const after = sampler.stats();
    const loadGenCpuS = Math.round((pool.cpuSeconds() - loadCpuBefore) * 100) / 100;
    const stats = await gather(pool);
    addErrors(errors, stats.errors);
    let expected = 0;
    let checksumOk = true;
    const postLatency = Histogram.from(posted.map((p) => p.postLatency));
    for (const p of posted) {
      expected += p.expectedDeliveries;
      const got = stats.byOrigin.get(p.origin) ?? { count: 0, checksum: 0 };
      if (got.count !== p.expectedDeliveries || got.checksum !== p.expectedChecksum) checksumOk = false;
      addErrors(errors, p.errors);
      if (p.skipped > 0) addErrors(errors, { post_skipped: p.skipped });
    }
    if (stats.received !== expected) addErrors(errors, { [stats.received < expected ? "missing" : "extra"]: Math.abs(expected - stats.received) });
    const ok = posted.reduce((s, p) => s + p.ok, 0);
    const elapsedS = Math.max(...posted.map((p) => p.elapsedMs)) / 1000;
    return {
      target: parleyLabel(options),
      workload: "chat",
      via: options.postVia === "ws" ? `${options.via} (posts on it)` : `${options.via} (posts grpc)`,
      users: n,
      subscriptions: connected.subscriptions,
      connectFailed: connected.failed,
      connectSeconds: connected.seconds,
      signupSeconds: run.signupSeconds,
      latency: latencyFigures(stats.latency),
      lastReceiver: undefined,
      posts: {
        attempted: posted.reduce((s, p) => s + p.attempted, 0),
        ok,
        failed: posted.reduce((s, p) => s + p.failed, 0),
        skipped: posted.reduce((s, p) => s + p.skipped, 0),
        perSecond: Math.round(ok / elapsedS),
        latency: latencyFigures(postLatency),
      },
      delivered: stats.received,
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
    await run.close();
  }
}
