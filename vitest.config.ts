import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const clientSrc = fileURLToPath(new URL("./client/src/", import.meta.url));

export default defineConfig({
  resolve: {
    // @parley/client from its sources (client/src), so tests need no build of it.
    alias: [
      { find: /^@parley\/client$/, replacement: `${clientSrc}index.ts` },
      { find: /^@parley\/client\/(.*)$/, replacement: `${clientSrc}$1.ts` },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "web/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real servers and engines; two cores do not gain from more parallel files.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
