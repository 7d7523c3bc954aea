/**
 * The Node flags a Parley server process runs with, wherever it is started from: `npm start`
 * (package.json passes them to tsx; a test keeps the two in step), the workers of a cluster
 * (cluster/primary.ts adds any the primary lacks) and the bench.
 *
 * --max-semi-space-size=16: Node 24 lets V8's young generation grow to 128 MiB (64 MiB
 * semi-spaces) on this class of machine, and a burst of connections grows it all the way: at
 * 10,000 idle WebSocket users that was ≈ 6 KiB of RSS per user. Capped at 32 MiB, RSS per user
 * fell from 13.4–15.0 to 6.6 KiB, and no workload got slower (chat over /ws at 1,000 posts/s:
 * p99 83 → 57 ms; a young generation that fits the caches scavenges faster). See BENCHMARKS.md,
 * session 3. A later flag on the command line overrides it as usual.
 *
 * --disable-warning=TimeoutNegativeWarning: kafkajs 2.2.4 (its last release) schedules its
 * request-queue check with a negative delay on its first requests, and Node ≥ 23 warns about
 * that in every process that uses BUS=kafka. Nothing to fix on our side, and the delay is
 * clamped to 1 ms as before; only that named warning is silenced.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16", "--disable-warning=TimeoutNegativeWarning"];

/** Flags that may be given several times with different values: the whole flag names them. */
const REPEATABLE = new Set(["--disable-warning"]);

/** `execArgv` with every server flag it does not already set (by name) appended. */
export function withServerFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => {
    const name = flag.split("=", 1)[0]!;
    return REPEATABLE.has(name) ? flag : name;
  };
  const present = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !present.has(named(flag)))];
}
