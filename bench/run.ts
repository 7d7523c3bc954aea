/**
 * `npm run bench -- <workload> [options]`: starts the server(s) in their own processes on a
 * fresh data directory, drives them from forked load processes, prints a Markdown table and
 * appends it to BENCHMARKS.md (with date, commit, Node version and machine). Progress goes to
 * stderr; `--json PATH|-` writes the raw figures.
 *
 * Workloads: fanout (N subscribers of one room, one poster), chat (N users in rooms of 20
 * plus DMs at R posts/s), ingest (64 closed-loop posters: the persisted posts/s), baseline
 * (fanout against Parley and against a bare ws broadcast server in the same invocation, and
 * the ratio), join-storm (N subscribers with presence opening at an even pace over a minute
 * while a poster posts every 200 ms: CPU, memory, delivery during the storm, presence frames
 * per subscriber), typing (N subscribers of one room, SetTyping at R calls/s by distinct
 * typists: typing-frame delivery and CPU). `--presence` makes the room streams of fanout, chat
 * and typing ask for presence frames (issue #16: fanout with and without it, in one session,
 * for the 1.1× check); presence frames are counted, never mixed into delivery latency.
 * `runBench` is the same thing as a function, for the smoke test.
 *
 * The issue #16 runs (BENCHMARKS.md: ratios within one invocation's session, load average shown):
 *   npm run bench -- fanout --users 10000 --via ws   then   … --presence   (same for --via grpc)
 *   npm run bench -- join-storm --users 10000 --duration 60
 *   npm run bench -- typing --users 10000 --rate 10 --duration 30
 */
import { writeFileSync } from "node:fs";
import { loadAverage } from "./proc-stats.js";
import { parseOptions, USAGE, UsageError, type BenchOptions } from "./options.js";
import { ProgressLog } from "./progress.js";
import type { BenchResult, RunFigures } from "./result.js";
import { appendToBenchmarks, currentCommit, formatResult, machine } from "./report.js";
import { runFanout } from "./workloads/fanout.js";
import { runChat } from "./workloads/chat.js";
import { runIngest } from "./workloads/ingest.js";
import { runJoinStorm } from "./workloads/join-storm.js";
import { runTyping } from "./workloads/typing.js";

/** Runs one invocation's workload(s) and returns the figures; prints and appends nothing. */
export async function runBench(options: BenchOptions, command: string): Promise<BenchResult> {
  const log = new ProgressLog(options.quiet);
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  if (loadBefore > 0.5) log.line(`note: load average is ${loadBefore} — figures are better on a quiet machine`);
  const runs: RunFigures[] = [];
  if (options.workload === "baseline") {
    runs.push(await runFanout(options, "parley", log));
    await new Promise((r) => setTimeout(r, 2000));
    runs.push(await runFanout(options, "bare", log));
  } else if (options.workload === "fanout" && options.store === "cassandra") {
    // A two-node deployment: subscribers on the posting node, then on the other node.
    runs.push(await runFanout(options, "parley", log));
    runs.push(await runFanout({ ...options, crossNode: true }, "parley", log));
  } else {
    // Every point of a sweep (--users a,b --rate x,y), smallest first: the table shows where it breaks.
    for (const users of options.sweep.users) {
      for (const rate of options.sweep.rates) {
        if (runs.length > 0) await new Promise((r) => setTimeout(r, 2000));
        const point = { ...options, users, rate };
        if (options.workload === "chat") runs.push(await runChat(point, log));
        else if (options.workload === "ingest") runs.push(await runIngest(point, log));
        else if (options.workload === "join-storm") runs.push(await runJoinStorm(point, log));
        else if (options.workload === "typing") runs.push(await runTyping(point, log));
        else runs.push(await runFanout(point, "parley", log));
      }
    }
  }
  const [parley, bare] = runs;
  const ratio =
    options.workload === "baseline" && parley?.lastReceiver && bare?.lastReceiver
      ? { lastReceiverP50: parley.lastReceiver.p50 / bare.lastReceiver.p50, latencyP99: parley.latency.p99 / bare.latency.p99 }
      : undefined;
  const { workload: _w, json: _j, append: _a, quiet: _q, keepData: _k, env, nodeArgs, sweep, ...params } = options;
  return {
    startedAt,
    commit: currentCommit(),
    node: process.version,
    machine: machine(),
    loadAverage: { before: loadBefore, after: loadAverage() },
    command,
    note: options.note,
    params: { ...params, env: JSON.stringify(env), nodeArgs: nodeArgs.join(" "), sweep: JSON.stringify(sweep) },
    runs,
    ratio,
  };
}

async function main(argv: string[]): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }
  const result = await runBench(options, `npm run bench -- ${argv.join(" ")}`);
  const text = formatResult(result);
  if (options.json === "-") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`\n${text}`);
    if (options.json) writeFileSync(options.json, JSON.stringify(result, null, 2));
  }
  if (options.append) appendToBenchmarks(result);
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
