/**
 * Running one phase of the protocol fuzz against a real server process: cases in small parallel
 * batches, bounded by count and time; a server that dies is restarted, and the batch that killed
 * it is replayed one case at a time to name the culprit; at the end the bystanders must still be
 * open and receive a message, and the server must have logged nothing at error level.
 */
import { newUser, uniqueName } from "./clients.js";
import { openBystanders, type Bystanders } from "./fuzz-bystanders.js";
import type { FuzzContext } from "./fuzz-cases-ws.js";
import { Rng } from "./fuzz-random.js";
import { startServer, type TestServer } from "./server.js";

export interface Environment {
  readonly server: TestServer;
  readonly ctx: FuzzContext;
  readonly bystanders: Bystanders;
}

export interface PhaseOptions<C> {
  readonly name: string;
  readonly seed: number;
  readonly cases: number;
  readonly seconds: number;
  readonly concurrency: number;
  /** FUZZ_ONLY: run just this case number. */
  readonly only?: number;
  readonly env: Readonly<Record<string, string>>;
  readonly maxBodyBytes: number;
  make(rng: Rng, ctx: FuzzContext): C & { readonly description: string };
  /** Runs one case; returns what was wrong with the server's answer (empty: nothing) and a label for the statistics. */
  run(env: Environment, c: C): Promise<{ problems: string[]; outcome: string }>;
}

export interface PhaseReport {
  readonly ran: number;
  readonly seconds: number;
  readonly outcomes: Record<string, number>;
  /** Every failure: what happened, and which case (replayable) with what input, when one case is to blame. */
  readonly failures: Failure[];
}

export interface Failure {
  readonly problem: string;
  /** "[ws #12] WebSocket /ws: unknown opcode → close 1000 (replay: FUZZ_SEED=… FUZZ_ONLY=ws:12)" */
  readonly example?: string;
}

/** The failures grouped by what happened, most frequent first, each with up to two example cases. */
export function formatFailures(failures: readonly Failure[]): string {
  // Decoding errors differ only in field and wire type numbers: one group.
  const key = (problem: string) => problem.replace(/field no \d+ wire type \d+/g, "field no N wire type N");
  const groups = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for (const f of failures) {
    const examples = groups.get(key(f.problem)) ?? [];
    if (f.example) examples.push(f.example);
    groups.set(key(f.problem), examples);
    counts.set(key(f.problem), (counts.get(key(f.problem)) ?? 0) + 1);
  }
  return [...groups]
    .sort((a, b) => counts.get(b[0])! - counts.get(a[0])!)
    .map(([problem, examples]) => [`×${counts.get(problem)} ${problem}`, ...examples.slice(0, 2).map((e) => `      e.g. ${e}`)].join("\n"))
    .join("\n");
}

/** Deaths of the server after which a phase stops (FUZZ_DEATHS; each costs two restarts). */
const MAX_DEATHS = Number(process.env["FUZZ_DEATHS"] ?? "") || 3;

/**
 * Whether the server is still up once everything sent so far has been handled: a request on a
 * fresh connection is answered after the server has read what came before it, and a process
 * that crashed on that input has exited (or refuses) by then.
 */
async function survives(env: Environment): Promise<boolean> {
  if (!env.server.alive()) return false;
  const answered = await fetch(`${env.server.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
    (res) => res.body?.cancel().then(() => true) ?? true,
    () => false,
  );
  if (answered) return env.server.alive();
  // Refused or reset: the process is going down; wait (up to 5 s) for its exit and its last words.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([env.server.exited, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
  clearTimeout(timer);
  return false;
}

async function startEnvironment(env: Readonly<Record<string, string>>, maxBodyBytes: number): Promise<Environment> {
  const server = await startServer({ env: { ...env, MAX_BODY_BYTES: String(maxBodyBytes) } });
  const bystanders = await openBystanders(server);
  const user = await newUser(server.url, "connect-json", uniqueName("fuzzer"));
  const { room } = await user.clients.rooms.createRoom({ name: uniqueName("fuzz") });
  return { server, bystanders, ctx: { token: user.token, userId: user.user.userId, roomId: room!.roomId, maxBodyBytes } };
}

/** Error-level (pino level ≥ 50) lines of a server's output, grouped by message and error. */
function errorLogs(output: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const line of output.split("\n")) {
    if (!/"level":(5\d|6\d)/.test(line)) continue;
    let key = line.slice(0, 200);
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string }; procedure?: string };
      key = `"${entry.msg}"${entry.procedure ? ` ${entry.procedure}` : ""}${entry.err ? ` — ${entry.err.type}: ${(entry.err.message ?? "").slice(0, 160)}` : ""}`;
    } catch {
      // not JSON: keep the raw start of the line
    }
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return groups;
}

/** What a dead server printed last (its crash): the error's message and the last error-level log line. */
function lastWords(output: string): string {
  const lines = output.trim().split("\n").filter((l) => l.trim() !== "").slice(-60);
  const thrown = lines.find((l) => /^\s*(\w*Error|Uncaught)\b/.test(l)) ?? lines.find((l) => /Unhandled|Error: /.test(l) && !l.startsWith("{"));
  const logged = lines.filter((l) => /"level":(5\d|6\d)/.test(l)).pop();
  const parts = [thrown?.trim(), logged?.slice(0, 300)].filter((p): p is string => Boolean(p));
  return (parts.length ? parts : lines.slice(-3).map((l) => l.slice(0, 200))).join(" | ");
}

export async function runPhase<C>(options: PhaseOptions<C>): Promise<PhaseReport> {
  const { name, seed } = options;
  const failures: Failure[] = [];
  const outcomes: Record<string, number> = {};
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const outputs: string[] = [];
  let env = await startEnvironment(options.env, options.maxBodyBytes);
  const caseOf = (index: number) => options.make(Rng.forCase(seed, name, index), env.ctx);
  const replay = (index: number) => `FUZZ_SEED=${seed} FUZZ_ONLY=${name}:${index}`;
  const restart = async () => {
    outputs.push(env.server.output());
    env.bystanders.close();
    await env.server.stop();
    env = await startEnvironment(options.env, options.maxBodyBytes);
  };

  const runOne = async (index: number): Promise<void> => {
    const c = caseOf(index);
    const { problems, outcome } = await options.run(env, c).catch((error: unknown) => ({ problems: [`the case itself failed: ${String(error)}`], outcome: "test error" }));
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (env.server.alive()) for (const problem of problems) failures.push({ problem, example: `[${name} #${index}] ${c.description} (replay: ${replay(index)})` });
  };

  let deaths = 0;
  let ran = 0;
  const indexes = options.only !== undefined ? [options.only] : Array.from({ length: options.cases }, (_, i) => i);
  let next = 0;
  while (next < indexes.length && Date.now() < deadline && deaths < MAX_DEATHS) {
    // Lanes take the next case as soon as they are free. A death is noticed (the child's exit
    // event) a little after the case that caused it: the suspects are the cases in flight and
    // the last ones to finish.
    const inFlight = new Set<number>();
    const finished: number[] = [];
    let dead = false;
    const lane = async () => {
      while (!dead && next < indexes.length && Date.now() < deadline) {
        const index = indexes[next++]!;
        inFlight.add(index);
        await runOne(index);
        inFlight.delete(index);
        finished.push(index);
        ran++;
        if (!env.server.alive()) dead = true;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    if (!dead) break;
    deaths++;
    const suspects = [...new Set([...finished.slice(-2 * options.concurrency), ...inFlight])].sort((a, b) => a - b);
    let crash = lastWords(env.server.output());
    await restart();
    // Name the case that kills the server: replay the suspects one at a time.
    let culprit: number | undefined;
    for (const index of suspects) {
      await runOne(index);
      if (!(await survives(env))) {
        culprit = index;
        crash = lastWords(env.server.output());
        await restart();
        break;
      }
    }
    failures.push(
      culprit !== undefined
        ? { problem: `THE SERVER PROCESS DIED: ${crash}`, example: `[${name} #${culprit}] ${caseOf(culprit).description} (replay: ${replay(culprit)})` }
        : { problem: `THE SERVER PROCESS DIED while cases ${suspects.map((i) => `#${i}`).join(", ")} ran (none kills it alone): ${crash}` },
    );
    if (deaths === MAX_DEATHS) failures.push({ problem: `stopped the ${name} phase after ${MAX_DEATHS} deaths of the server process` });
  }

  // The bystanders were opened before the fuzz (on the last server, after any restart).
  const survived = env.bystanders.problems();
  const missed = await env.bystanders.expectMessage(`after the ${name} fuzz, seed ${seed}`);
  for (const p of new Set([...survived, ...missed])) failures.push({ problem: `bystander disturbed: ${p}` });
  env.bystanders.close();
  if (!env.server.alive()) failures.push({ problem: `the server process is not running at the end: ${lastWords(env.server.output())}` });
  outputs.push(env.server.output());
  await env.server.stop();
  for (const [line, count] of errorLogs(outputs.join("\n"))) failures.push({ problem: `error-level log line (×${count} in the server output): ${line}` });
  return { ran, seconds: (Date.now() - started) / 1000, outcomes, failures };
}
