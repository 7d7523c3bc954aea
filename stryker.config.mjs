// Mutation testing (issue #17): `npm run mutate`, or one module with
// `npm run mutate -- --mutate src/domain/ids.ts`. Scores and equivalent mutants: TESTING.md, "Mutation testing".
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  // The modules whose correctness is the product: ids and names, path templates and the REST
  // request codec, rate limits (in-process and node-wide) and stream tickets, the realtime unread queue, live stream and presence, the error catalogue and mapping.
  mutate: [
    "src/domain/ids.ts",
    "src/domain/names.ts",
    "src/domain/errors.ts",
    "src/edges/http/error-mapping.ts",
    "src/edges/rest/path-template.ts",
    "src/edges/rest/request-codec.ts",
    "src/edges/rest/text-values.ts",
    "src/edges/rest/field-path.ts",
    "src/edges/rest/decode-error.ts",
    "src/edges/admission/rate-limit.ts",
    "src/edges/admission/token-buckets.ts",
    "src/cluster/node-buckets.ts",
    "src/auth/stream-tickets.ts",
    "src/realtime/unread-queue.ts",
    "src/realtime/live-stream.ts",
    "src/realtime/presence.ts",
  ],
  testRunner: "vitest",
  // Unit tests only (stryker.vitest.config.mjs): they reach every module above in-process. The e2e
  // suites start servers as child processes, which Stryker's coverage cannot see, and would take
  // hours on two cores. `related`: each run loads only the test files that import the mutated file.
  vitest: { configFile: "stryker.vitest.config.mjs", related: true },
  coverageAnalysis: "perTest",
  // Two shared cores: one test runner keeps the machine usable for everyone else.
  concurrency: 1,
  // A mutant that loops forever (a `<` turned `<=` in a drain loop) is a timeout, counted as detected.
  timeoutMS: 5_000,
  reporters: ["clear-text", "json", "progress"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  // `npm run mutate -- --incremental` reuses the results of unchanged mutants and tests (this file, gitignored).
  incrementalFile: "reports/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
  thresholds: { high: 90, low: 85, break: null },
};
