import { defineConfig } from "vite";

/** The API server that `vite web` (dev) forwards RPCs to. */
const apiOrigin = "http://localhost:8080";

/**
 * Builds the Parley page into web/dist (`vite build web`). In dev (`vite web`),
 * Connect RPC paths (`/chat.v1.AuthService/SignIn`, …) are proxied to the API
 * server so the page can keep using `location.origin` as its base URL.
 */
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "^/chat\\.v1\\.": { target: apiOrigin },
    },
  },
});
