/**
 * Presenting a run: the environment it ran in (date, commit, Node, CPU model, cores, RAM, load
 * average), a Markdown table with one row per measured server, printed to stdout and appended
 * to BENCHMARKS.md, and the raw figures as JSON on request.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { BenchResult, RunFigures } from "./result.js";
import { ROOT } from "./servers.js";

export const BENCHMARKS_FILE = join(ROOT, "BENCHMARKS.md");

/** The commit checked out (with "+dirty" when the code has uncommitted changes), or "unknown". */
export function currentCommit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    // BENCHMARKS.md itself changes with every appended run: it does not make the code dirty.
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md"], { cwd: ROOT, encoding: "utf8" }).trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return "unknown";
  }
}

export function machine(): BenchResult["machine"] {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 1024 ** 3),
  };
}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));

function row(r: RunFigures): string {
  const lastRecv = r.lastReceiver ? `${fmt(r.lastReceiver.p50)} / ${fmt(r.lastReceiver.max)}` : "–";
  const errors = r.errorCount === 0 ? "0" : `**${r.errorCount}** (${Object.entries(r.errors).map(([k, n]) => `${k} ${n}`).join(", ")})`;
  const delivered = r.workload === "ingest" ? `${r.persisted ?? "–"} rows / ${r.posts.ok} acked` : `${r.delivered} / ${r.expected}${r.checksumOk ? "" : " ✗sum"}`;
  const s = r.server;
  return [
    r.target,
    r.workload,
    r.via,
    r.users,
    `${r.subscriptions}${r.connectFailed ? ` (${r.connectFailed} failed)` : ""}`,
    fmt(r.connectSeconds),
    fmt(r.latency.p50),
    fmt(r.latency.p99),
    fmt(r.latency.max),
    lastRecv,
    r.workload === "fanout" ? `${r.posts.ok} × ${r.subscriptions}` : `${r.posts.perSecond}/s (p99 ${fmt(r.posts.latency.p99)})`,
    delivered,
    errors,
    fmt(s.peakRssMiB, 0),
    fmt(s.rssPerUserKiB, 1),
    `${fmt(s.cpuConnectS)} / ${fmt(s.cpuLoadS)} (${fmt(r.loadGenCpuS)})`,
    `${Math.round(s.cpuLoadSystemShare * 100)} %`,
    fmt(s.eventLoopLagP99Ms),
  ].join(" | ");
}

/** The presence / typing figures of one run (issue #16), or undefined when it has none. */
function ephemeralRow(r: RunFigures): string | undefined {
  const e = r.ephemeral;
  if (!e) return undefined;
  const measured =
    r.workload === "join-storm"
      ? `${r.latency.count} storm-post receipts`
      : r.workload === "typing"
        ? `typing frames of ${e.typists ?? "–"} typists, wall clock`
        : "messages";
  return [
    r.target,
    r.workload,
    r.via,
    e.presence ? "yes" : "no",
    e.presence ? `${e.presenceFrames} (${fmt(e.presencePerSubscriber, 2)})` : "–",
    e.openLatency ? `${fmt(e.openLatency.p50)} / ${fmt(e.openLatency.p99)}` : "–",
    e.presenceLag ? `${fmt(e.presenceLag.p50)} / ${fmt(e.presenceLag.p99)} (${e.presenceLag.count})` : "–",
    e.cpuCores ? `${fmt(e.cpuCores.avg, 2)} / ${fmt(e.cpuCores.peak, 2)}` : "–",
    measured,
  ].join(" | ");
}

const EPHEMERAL_HEADER =
  "| server | workload | via | presence | presence frames (per subscriber) | open p50 / p99 ms | presence lag p50 / p99 ms (users) | server CPU cores avg / peak | p50 / p99 over |\n" +
  "|---|---|---|---|---|---|---|---|---|";

/** What the main table's columns mean for the workloads whose rows are not fan-out posts. */
const EPHEMERAL_NOTES: Readonly<Record<string, string>> = {
  "join-storm":
    "join-storm: p50/p99/max = posts during the storm (to whoever was in the room); delivered / expected = the check posts after it, to everyone; " +
    "connect s = the storm; CPU s connect = over the storm (cores: its average and busiest second); open = each connection's attempt → ready; " +
    "presence lag = a user's attempt → the first frame listing them as joined on one observer stream per load process (users left out of truncated frames not counted).",
  typing:
    "typing: p50/p99/max = typing frames, receipt − (until − 6 s) on the machine's wall clock (1 ms resolution); posts = SetTyping calls; " +
    "delivered / expected = typing frames / (accepted calls × subscribers); CPU cores over the calls and their delivery.",
};

const HEADER =
  "| server | workload | via | users | subscriptions | connect s | p50 ms | p99 ms | max ms | last recv p50 / max ms | posts | delivered / expected | errors | peak RSS MiB | KiB / user | CPU s connect / load (loadgen) | kernel share | loop lag p99 ms |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

/** The Markdown section of one invocation. */
export function formatResult(result: BenchResult): string {
  const m = result.machine;
  const lines = [
    `### ${result.startedAt.slice(0, 16).replace("T", " ")} UTC — \`${result.command}\``,
    "",
    `commit ${result.commit} · Node ${result.node} · ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM · load average ${fmt(result.loadAverage.before, 2)} before, ${fmt(result.loadAverage.after, 2)} after` +
      (result.params["serverNice"] ? ` · server nice +${result.params["serverNice"]}` : "") +
      (result.note ? ` · ${result.note}` : ""),
    "",
    HEADER,
    ...result.runs.map((r) => `| ${row(r)} |`),
  ];
  const ephemeral = result.runs.map(ephemeralRow).filter((line): line is string => line !== undefined);
  if (ephemeral.length > 0) {
    lines.push("", "Presence and typing (#16):", "", EPHEMERAL_HEADER, ...ephemeral.map((line) => `| ${line} |`));
    const notes = new Set(result.runs.map((r) => EPHEMERAL_NOTES[r.workload]).filter((note): note is string => note !== undefined));
    if (notes.size > 0) lines.push("", ...[...notes].map((note) => `- ${note}`));
  }
  if (result.ratio) {
    lines.push("", `Parley / bare ws: last receiver p50 **${fmt(result.ratio.lastReceiverP50, 2)}×**, delivery p99 **${fmt(result.ratio.latencyP99, 2)}×**.`);
  }
  const sweep = result.runs.length > 1 && !result.ratio && result.runs.every((r) => r.workload === "chat" || r.workload === "fanout");
  if (sweep) lines.push("", breakingPoint(result.runs));
  const samples = result.runs.flatMap((r) => r.errorSamples.map((s) => `${r.target}: ${s}`));
  if (samples.length > 0) lines.push("", "Error samples:", ...samples.slice(0, 5).map((s) => `- \`${s.replace(/`/g, "'")}\``));
  return lines.join("\n") + "\n";
}

const PREAMBLE = `# Benchmarks

Real runs of \`npm run bench\` (see bench/run.ts for the workloads and bench/users.ts for how users
are made). Latencies are end to end: from just before the post RPC is sent to the moment a
subscriber's client has the frame, on one shared monotonic clock. "last recv" is, per message,
the time until its last receiver had it (median and max over messages). Memory is the server's
resident set (VmRSS / VmHWM); KiB / user = (RSS with everyone connected − RSS before) / users.
CPU is the server's user + system time while clients connected, and while the workload ran;
(loadgen) is what the load processes used meanwhile; kernel share is the system-time part of
the server's workload CPU.
Sections are appended by the bench, newest last.

`;

export function appendToBenchmarks(result: BenchResult): void {
  if (!existsSync(BENCHMARKS_FILE)) writeFileSync(BENCHMARKS_FILE, PREAMBLE);
  appendFileSync(BENCHMARKS_FILE, `\n${formatResult(result)}`);
}

/** The p99 above which a sweep point counts as broken: the issue's must-target for chat and fanout. */
export const BROKEN_P99_MS = 250;

/** The first point of a sweep that lost messages, had errors, or passed BROKEN_P99_MS. */
function breakingPoint(runs: readonly RunFigures[]): string {
  const broken = runs.find((r) => r.errorCount > 0 || r.delivered < r.expected || r.latency.p99 >= BROKEN_P99_MS);
  if (!broken) return `Breaking point: none in this sweep (every point delivered everything, no errors, p99 < ${BROKEN_P99_MS} ms).`;
  const why = [
    broken.errorCount > 0 ? `${broken.errorCount} errors` : "",
    broken.delivered < broken.expected ? `${broken.expected - broken.delivered} not delivered` : "",
    broken.latency.p99 >= BROKEN_P99_MS ? `p99 ${fmt(broken.latency.p99, 1)} ms ≥ ${BROKEN_P99_MS}` : "",
  ].filter(Boolean);
  const at = broken.workload === "chat" ? `${broken.users} users at ${fmt(broken.posts.perSecond, 0)} posts/s` : `${broken.users} subscribers`;
  return `Breaking point: **${at}** (${why.join(", ")}).`;
}
