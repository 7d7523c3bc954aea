import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** @parley/client's sources: the page is built on the library as it stands in this repo. */
const clientSrc = fileURLToPath(new URL("../client/src/", import.meta.url));

/** The API server that `vite web` (dev) forwards RPCs to. */
const apiOrigin = "http://localhost:8080";

/**
 * Builds the Parley page into web/dist (`vite build web`). In dev (`vite web`),
 * Connect RPC paths (`/chat.v1.AuthService/SignIn`, …) are proxied to the API
 * server so the page can keep using `location.origin` as its base URL.
 */
export default defineConfig({
  base: "./",
  resolve: {
    alias: [
      { find: /^@parley\/client$/, replacement: `${clientSrc}index.ts` },
      { find: /^@parley\/client\/(.*)$/, replacement: `${clientSrc}$1.ts` },
    ],
  },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "^/chat\\.v1\\.": { target: apiOrigin },
    },
  },
});
