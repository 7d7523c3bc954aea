/**
 * The chaos suite's report: one row per scenario in RELIABILITY.md (two tables between markers),
 * rewritten by every run for the scenarios it ran — rows of scenarios it did not run stay as
 * they were, with the date and commit they were measured at — and a failure message that names
 * each subscriber that lost, repeated or reordered messages, with example ids.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import type { ScenarioResult } from "./run-scenario.js";
import type { SubscriberVerdict } from "./checker.js";

const ROOT = resolve(import.meta.dirname, "../..");
export const RELIABILITY_MD = join(ROOT, "RELIABILITY.md");
const BEGIN = "<!-- chaos-table:begin (written by test/chaos/chaos.test.ts) -->";
const END = "<!-- chaos-table:end -->";

const MAIN_HEADER = [
  "| scenario | acked | lost | duplicated | out of order | extras (unacked) | lost from store | stored twice | worst post answer during fault | failed attempts | posts OK after fault | live delivery after fault | result |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
];
const DETAIL_HEADER = [
  "| scenario | what happens | subscribers | resumes | unexpected stream ends | gap-excused | received, not in List | posts given up | node clocks (HTTP Date − client) | took | measured |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
];

/** Whether the scenario kept the guarantees: nothing lost, repeated, reordered or missing from the store. */
export function failures(result: ScenarioResult): string[] {
  const v = result.verdict;
  const out = [...result.problems];
  const sum = (pick: (s: SubscriberVerdict) => readonly string[]) => v.subscribers.reduce((n, s) => n + pick(s).length, 0);
  if (sum((s) => s.lost)) out.push(`${sum((s) => s.lost)} acknowledged messages lost by subscribers`);
  if (sum((s) => s.duplicated)) out.push(`${sum((s) => s.duplicated)} messages received twice`);
  if (sum((s) => s.outOfOrder)) out.push(`${sum((s) => s.outOfOrder)} messages out of channel order`);
  if (v.lostFromStore.length) out.push(`${v.lostFromStore.length} acknowledged messages missing from List`);
  if (v.storedTwice.length) out.push(`${v.storedTwice.length} client_message_ids stored twice`);
  const bounds = result.scenario.bounds;
  const m = result.measures;
  if (bounds?.worstAnswerMs !== undefined && (m.worstAnswerTimedOut || (m.worstAnswerMs ?? 0) > bounds.worstAnswerMs)) {
    out.push(`a post waited ${m.worstAnswerMs} ms for its answer during the fault (bound ${bounds.worstAnswerMs} ms)`);
  }
  if (bounds?.recoveryMs !== undefined) {
    if (m.postsOkAfterMs === undefined || m.postsOkAfterMs > bounds.recoveryMs) out.push(`posts succeeded again ${m.postsOkAfterMs ?? "never"} ms after the fault (bound ${bounds.recoveryMs} ms)`);
    if (m.liveAfterMs === undefined || m.liveAfterMs > bounds.recoveryMs || m.liveNever > 0) {
      out.push(`live delivery resumed ${m.liveAfterMs ?? "never"} ms after the fault, ${m.liveNever} subscribers never (bound ${bounds.recoveryMs} ms)`);
    }
  }
  for (const answer of bounds?.forbidden ?? []) if (m.failures[answer]) out.push(`${m.failures[answer]} posts answered "${answer}" during the fault`);
  return out;
}

/** The failure message: what failed, then each subscriber with a problem (counts and a few ids). */
export function describeFailure(result: ScenarioResult, problems: readonly string[]): string {
  const v = result.verdict;
  const few = (ids: readonly string[]) => (ids.length ? ` [${ids.slice(0, 4).join(", ")}${ids.length > 4 ? ", …" : ""}]` : "");
  const lines = [`chaos scenario ${result.scenario.name} (seed ${result.seed}): ${problems.join("; ")}`, `  ${mainRow(result)}`];
  for (const s of v.subscribers) {
    if (!s.lost.length && !s.duplicated.length && !s.outOfOrder.length) continue;
    lines.push(
      `  ${s.name} (${s.channel}): received ${s.received}, owed ${s.owed}, lost ${s.lost.length}${few(s.lost)}, duplicated ${s.duplicated.length}${few(s.duplicated)}, ` +
        `out of order ${s.outOfOrder.length}${few(s.outOfOrder)}, extras ${s.extras.length}`,
    );
  }
  if (v.lostFromStore.length) lines.push(`  lost from store: ${v.lostFromStore.length}${few(v.lostFromStore)}`);
  if (v.storedTwice.length) lines.push(`  stored twice (client_message_id): ${v.storedTwice.length}${few(v.storedTwice)}`);
  return lines.join("\n");
}

/** Rewrites the rows of these results in RELIABILITY.md (creating the tables if missing). */
export function writeReport(results: readonly ScenarioResult[], order: readonly string[]): void {
  const text = existsSync(RELIABILITY_MD) ? readFileSync(RELIABILITY_MD, "utf8") : `# Reliability\n\n${BEGIN}\n${END}\n`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${RELIABILITY_MD} has lost its table markers (${BEGIN} … ${END})`);
  const block = text.slice(begin + BEGIN.length, end);
  const rows = (header: readonly string[], make: (r: ScenarioResult) => string) => {
    const byName = new Map<string, string>();
    for (const line of block.split("\n")) {
      const name = /^\| ([a-z0-9-]+) \|/.exec(line)?.[1];
      if (name && header.every((h) => h !== line) && line.split("|").length === header[0]!.split("|").length) byName.set(name, line);
    }
    for (const r of results) byName.set(r.scenario.name, make(r));
    return [...header, ...order.filter((n) => byName.has(n)).map((n) => byName.get(n)!)].join("\n");
  };
  const table = `\n${rows(MAIN_HEADER, mainRow)}\n\n${rows(DETAIL_HEADER, detailRow(measuredAt()))}\n`;
  writeFileSync(RELIABILITY_MD, text.slice(0, begin + BEGIN.length) + table + text.slice(end));
}

/** The scenario's row of the main table. */
export function mainRow(r: ScenarioResult): string {
  const v = r.verdict;
  const m = r.measures;
  const count = (pick: (s: SubscriberVerdict) => readonly string[]) => {
    const hit = v.subscribers.filter((s) => pick(s).length > 0);
    const n = hit.reduce((sum, s) => sum + pick(s).length, 0);
    return n === 0 ? "0" : `**${n}** (${hit.length} of ${v.subscribers.length} subs)`;
  };
  const extras = v.subscribers.reduce((n, s) => n + s.extras.length, 0);
  const failed = Object.entries(m.failures)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(", ");
  const never = r.window ? `none in ${seconds(m.watchedAfterMs ?? 0)}` : "—";
  const live = m.liveAfterMs === undefined ? never : `${seconds(m.liveAfterMs)}${m.liveNever ? ` (${m.liveNever} subs none)` : ""}`;
  const result = failures(r).length === 0 ? "pass" : "**FAIL**";
  return `| ${r.scenario.name} | ${v.acked} | ${count((s) => s.lost)} | ${count((s) => s.duplicated)} | ${count((s) => s.outOfOrder)} | ${extras} | ${v.lostFromStore.length ? `**${v.lostFromStore.length}**` : "0"} | ${v.storedTwice.length ? `**${v.storedTwice.length}**` : "0"} | ${m.worstAnswerMs === undefined ? "—" : `${seconds(m.worstAnswerMs)}${m.worstAnswerTimedOut ? " (no answer)" : ""}`} | ${failed || "none"} | ${m.postsOkAfterMs === undefined ? never : seconds(m.postsOkAfterMs)} | ${live} | ${result} |`;
}

function detailRow(measured: string): (r: ScenarioResult) => string {
  return (r) => {
    const v = r.verdict;
    const clocks = Object.entries(r.measures.clockOffsetMs)
      .map(([node, ms]) => `${node.toUpperCase()} ${ms! >= 0 ? "+" : ""}${ms} ms`)
      .join(", ");
    const sum = (pick: (s: SubscriberVerdict) => number) => v.subscribers.reduce((n, s) => n + pick(s), 0);
    return `| ${r.scenario.name} | ${r.scenario.description} | ${r.subscribers} | ${r.resumes} | ${r.unexpectedEnds} | ${sum((s) => s.gapExcused)} | ${sum((s) => s.unlisted.length)} | ${r.measures.gaveUp} | ${clocks} | ${r.seconds} s | ${measured}, seed ${r.seed} |`;
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function measuredAt(): string {
  let commit = "?";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  return `${new Date().toISOString().slice(0, 10)} ${commit}, ${cpus().length} cores, Node ${process.version}`;
}
