/**
 * The web page (web/dist, built by `vite build web`): `/` is index.html, other paths are files
 * under the directory. Hashed build assets (`name-<hash>.ext`) are cached for a year as
 * immutable; everything else is revalidated (ETag). A GET navigation (Accept: text/html) to a
 * path that is no file gets index.html (SPA fallback). Paths are decoded segment by segment and
 * refused when a segment is empty, "." or "..", or holds "/", "\" or NUL — nothing outside the
 * directory is ever read. GET and HEAD only.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { extname, join, relative, resolve, sep, isAbsolute } from "node:path";
import type { RequestTarget } from "./request-site.js";
import type { AnyResponse } from "./respond.js";

/** Serves a request if it names a file of the page; resolves false (touching nothing) otherwise. */
export type StaticFiles = (req: IncomingMessage, res: AnyResponse, url: RequestTarget) => Promise<boolean>;

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** The page's policy: everything from this origin only (its RPCs and streams included). */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const HASHED = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/** Serves the files under `webDir` (see the file comment for the rules). */
export function createStaticFiles(webDir: string): StaticFiles {
  const root = resolve(webDir);
  return async (req, res, url) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const file = filePath(root, url.pathname === "/" ? "/index.html" : url.pathname);
    if (file === undefined) return false;
    let found = await fileSize(file);
    let path = file;
    if (found === undefined && isNavigation(req, url.pathname)) {
      path = join(root, "index.html");
      found = await fileSize(path);
    }
    if (found === undefined) return false;
    const type = TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
    const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      "content-type": type,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": HASHED.test(path) ? "public, max-age=31536000, immutable" : "no-cache",
      etag,
    };
    if (type.startsWith("text/html")) Object.assign(headers, { "content-security-policy": PAGE_CSP, "x-frame-options": "DENY" });
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, { ...headers, "content-length": String(found.size) });
    if (req.method === "HEAD") res.end();
    else createReadStream(path).on("error", () => res.destroy()).pipe(res);
    return true;
  };
}

/** The file a URL path names inside root, or undefined when the path is not acceptable. */
function filePath(root: string, pathname: string): string | undefined {
  const parts: string[] = [];
  for (const raw of pathname.slice(1).split("/")) {
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (part === "" || part === "." || part === ".." || /[/\\\0]/.test(part)) return undefined;
    parts.push(part);
  }
  const path = join(root, ...parts);
  const rel = relative(root, path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) || !path.startsWith(root + sep) ? undefined : path;
}

async function fileSize(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** A browser navigation to a client-side route: GET, wants HTML, last segment has no extension. */
function isNavigation(req: IncomingMessage, pathname: string): boolean {
  const last = pathname.split("/").pop() ?? "";
  return req.method === "GET" && (req.headers.accept ?? "").includes("text/html") && !last.includes(".");
}
