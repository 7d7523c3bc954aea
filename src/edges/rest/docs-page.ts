import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Handles a request if it is for the docs page or its assets; returns false (touching nothing) otherwise. */
export type DocsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serves the API documentation: `GET /docs` is an HTML page rendering the OpenAPI document at `openapiPath` with
 * Swagger UI, whose files come from the installed swagger-ui-dist package under `/docs/assets/` (no CDN, nothing
 * loaded from another origin). Handles `/docs`, `/docs/` (a redirect to `/docs`) and a fixed list of asset names —
 * never a path derived from the URL. GET and HEAD only (405 with Allow otherwise). Every response carries
 * `X-Content-Type-Options: nosniff` and a Content-Security-Policy that allows scripts, styles, fetches and images
 * only from this origin (plus inline styles and data: images, which Swagger UI's own CSS and components use).
 */
export function createDocsHandler(openapiPath = "/openapi.json"): DocsHandler {
  const distDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const assets: Record<string, () => Promise<Buffer | string>> = {
    "/docs/assets/swagger-ui.css": cached(() => readFile(join(distDir, "swagger-ui.css"))),
    "/docs/assets/swagger-ui-bundle.js": cached(() => readFile(join(distDir, "swagger-ui-bundle.js"))),
    "/docs/assets/init.js": async () => initScript(openapiPath),
  };
  return (req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (pathname !== "/docs" && pathname !== "/docs/" && !(pathname in assets)) return false;
    setSafetyHeaders(res);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Method Not Allowed\n");
      return true;
    }
    if (pathname === "/docs/") {
      res.writeHead(308, { Location: "/docs" }).end();
      return true;
    }
    const load = assets[pathname];
    const body: Promise<Buffer | string> = load === undefined ? Promise.resolve(PAGE) : load();
    body.then(
      (content) => {
        res.writeHead(200, {
          "Content-Type": contentType(pathname),
          "Content-Length": Buffer.byteLength(content),
          "Cache-Control": load === undefined ? "no-cache" : "public, max-age=3600",
        });
        res.end(req.method === "HEAD" ? undefined : content);
      },
      () => {
        res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("Documentation assets unavailable\n");
      },
    );
    return true;
  };
}

/** The policy of the docs page: this origin only; Swagger UI needs inline styles and data: images for its icons. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

function initScript(openapiPath: string): string {
  const options = { url: openapiPath, dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null };
  return `window.ui = SwaggerUIBundle(${JSON.stringify(options)});\n`;
}

function contentType(pathname: string): string {
  if (pathname.endsWith(".css")) return "text/css; charset=utf-8";
  if (pathname.endsWith(".js")) return "text/javascript; charset=utf-8";
  return "text/html; charset=utf-8";
}

function setSafetyHeaders(res: ServerResponse): void {
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Security-Policy", DOCS_CSP);
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

function cached<T>(load: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= load().catch((error: unknown) => {
      promise = undefined;
      throw error;
    });
    return promise;
  };
}
