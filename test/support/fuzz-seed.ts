/**
 * Seeds and bounds of the fuzz and property-based tests, one place for all of them, so a run is
 * reproducible and can be made longer without editing code:
 *   FUZZ_SEED=<int>    the seed (default: a fixed one, so CI is deterministic; "random" draws one)
 *   FUZZ_RUNS=<int>    runs per property / inputs per protocol fuzz (default: each test's own)
 *   FUZZ_SECONDS=<n>   time budget of the protocol fuzz against a real server (default 60)
 *   FUZZ_ONLY=<phase>:<n>  the protocol fuzz runs just that case (phase ws, http or h2)
 *   FUZZ_DEATHS=<n>    deaths of the server after which a protocol fuzz phase stops (default 3)
 * A failing property prints its seed and counterexample (fast-check); the protocol fuzz prints its
 * seed at the start and names seed, case number and input in every failure.
 */
import { fc } from "@fast-check/vitest";

/** The default seed: fixed, so two CI runs of one commit fuzz the same inputs. */
export const DEFAULT_FUZZ_SEED = 20_261_203;

let drawn: number | undefined;

/** The seed of this run: FUZZ_SEED, or a random one for FUZZ_SEED=random, else DEFAULT_FUZZ_SEED. */
export function fuzzSeed(): number {
  const raw = process.env["FUZZ_SEED"];
  if (raw === undefined || raw === "") return DEFAULT_FUZZ_SEED;
  if (raw === "random") return (drawn ??= Math.floor(Math.random() * 0x7fffffff));
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", got ${raw}`);
  return seed;
}

/** FUZZ_RUNS when set (a positive integer), else `fallback`. */
export function fuzzRuns(fallback: number): number {
  const raw = process.env["FUZZ_RUNS"];
  if (raw === undefined || raw === "") return fallback;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs <= 0) throw new Error(`FUZZ_RUNS must be a positive integer, got ${raw}`);
  return runs;
}

/** FUZZ_SECONDS when set (a positive number), else `fallback`. */
export function fuzzSeconds(fallback: number): number {
  const raw = process.env["FUZZ_SECONDS"];
  if (raw === undefined || raw === "") return fallback;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_SECONDS must be a positive number, got ${raw}`);
  return seconds;
}

/**
 * fast-check parameters for one property: this run's seed, `runs` runs (or FUZZ_RUNS), and no
 * time spent shrinking beyond a bound (a deep-JSON counterexample is slow to shrink).
 */
export function propertyParameters<T = never>(runs: number): fc.Parameters<T> {
  return { seed: fuzzSeed(), numRuns: fuzzRuns(runs), interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false, endOnFailure: false };
}
