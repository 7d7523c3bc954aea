// The vitest configuration of `npm run mutate` (stryker.config.mjs): the project's, narrowed to the
// unit tests. Narrowed here rather than with Stryker's `testFiles`, which in Stryker 10.1 turns static
// mutants (module-level constants) into runtime ones that are never activated, so they always
// "survive" (stryker-mutator/stryker-js#6144, #6209).
import base from "./vitest.config.ts";

// Replaced, not merged: vitest's mergeConfig would append to the project's `include`.
export default { ...base, test: { ...base.test, include: ["test/unit/**/*.test.ts"] } };
