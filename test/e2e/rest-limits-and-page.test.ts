/**
 * The rest of the browser edge over real HTTP: rate limits on REST and streams (429 with
 * Retry-After), the OpenAPI document and docs page, and the web page's static files (content
 * types, caching, ETag, SPA fallback, no way out of the directory).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, tempDir, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";

describe("rate limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "8", SIGNIN_LIMIT_PER_MINUTE: "100000" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers 429 with Retry-After on REST, stream and ticket routes once the burst is spent", async () => {
    const a = await newUser(server.url);
    const auth = { authorization: `Bearer ${a.token}` };
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await fetch(`${server.url}/me`, { headers: auth });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited, statuses.join(",")).toBeDefined();
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toEqual({ code: "resource_exhausted", message: expect.stringContaining("rate limit") });
    const stream = await fetch(`${server.url}/me/subscribe`, { headers: { ...auth, accept: "text/event-stream" } });
    expect(stream.status).toBe(429);
    expect(stream.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: auth })).status).toBe(429);
  });
});

describe("sign-in attempts per username", () => {
  it("are limited (password guessing) even from many addresses", async () => {
    const server = await startServer({ env: { SIGNIN_LIMIT_PER_MINUTE: "3" }, oneProcess: "per-process buckets until node-wide (main agent)" });
    try {
      const username = uniqueName("guess");
      await fetch(`${server.url}/auth/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: "correct horse battery" }) });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${server.url}/auth/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: `guess ${i}xxxx` }) });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await server.stop();
    }
  });
});

describe("the OpenAPI document, the docs and the web page", () => {
  let server: TestServer;
  const webDir = tempDir("parley-web-");
  const asset = "index-AbCd1234.js";
  beforeAll(async () => {
    mkdirSync(join(webDir, "assets"));
    writeFileSync(join(webDir, "index.html"), `<!doctype html><title>Parley</title><script type="module" src="./assets/${asset}"></script>`);
    writeFileSync(join(webDir, "assets", asset), "console.log('parley');\n");
    writeFileSync(join(webDir, "assets", "index-Zz9Yy8Xx.css"), "body{}\n");
    writeFileSync(join(webDir, "robots.txt"), "User-agent: *\n");
    server = await startServer({ env: { WEB_DIR: webDir } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves /openapi.json (3.1, the seed's paths) and /docs", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/rooms", "/auth/signin", "/me/subscribe"]));
    expect(Object.keys(doc.paths["/rooms"]!).sort()).toEqual(["get", "post"]);
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("serves index.html at / with a strict CSP, revalidated by ETag", async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain(asset);
    const etag = res.headers.get("etag")!;
    const again = await fetch(`${server.url}/`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const head = await fetch(`${server.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("serves hashed assets as immutable with the right types, other files revalidated", async () => {
    const js = await fetch(`${server.url}/assets/${asset}`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const css = await fetch(`${server.url}/assets/index-Zz9Yy8Xx.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const txt = await fetch(`${server.url}/robots.txt`);
    expect(txt.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(txt.headers.get("cache-control")).toBe("no-cache");
  });

  it("falls back to index.html only for GET navigations that want HTML", async () => {
    const nav = await fetch(`${server.url}/some/client/route`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(nav.status).toBe(200);
    expect(await nav.text()).toContain("<title>Parley</title>");
    const api = await fetch(`${server.url}/some/client/route`, { headers: { accept: "application/json" } });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ code: "not_found", message: expect.any(String) });
    const missingAsset = await fetch(`${server.url}/assets/missing-AbCd1234.js`, { headers: { accept: "text/html" } });
    expect(missingAsset.status).toBe(404);
    const post = await fetch(`${server.url}/`, { method: "POST" });
    expect(post.status).toBe(404);
  });

  it("answers API routes with JSON even for a browser navigation", async () => {
    const res = await fetch(`${server.url}/rooms`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const a = await newUser(server.url);
    expect((await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${a.token}` } })).status).toBe(200);
  });
});
