/**
 * The Node flags a Parley server process runs with, wherever it is started from: `npm start`
 * (package.json passes them to tsx; a test keeps the two in step), the workers of a cluster
 * (cluster/primary.ts adds any the primary lacks) and the bench.
 *
 * --max-semi-space-size=16: Node 24 lets V8's young generation grow to 128 MiB (64 MiB
 * semi-spaces) on this class of machine, and a burst of connections grows it all the way: at
 * 10,000 idle WebSocket users that was ≈ 6 KiB of RSS per user. Capped at 32 MiB, RSS per user
 * fell from 13.4–15.0 to 6.8 KiB, and the allocation-heavy workloads got faster, not slower
 * (chat p99 83 → 59 ms, ingest 7,391 → 7,823 posts/s: a young generation that fits the caches
 * scavenges faster). See BENCHMARKS.md, 2026-11-25 18:4x. A later flag on the command line
 * (or NODE_OPTIONS before it) overrides it as usual.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];

/** `execArgv` with every server flag it does not already set (by name) appended. */
export function withServerFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => flag.split("=", 1)[0]!;
  const present = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !present.has(named(flag)))];
}
