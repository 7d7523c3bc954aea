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
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];

/** `execArgv` with every server flag it does not already set (by name) appended. */
export function withServerFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => flag.split("=", 1)[0]!;
  const present = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !present.has(named(flag)))];
}
