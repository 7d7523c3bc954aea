import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocsHandler, DOCS_CSP } from "../../src/edges/rest/docs-page.js";

const docs = createDocsHandler("/openapi.json");
const server = createServer((req, res) => {
  if (!docs(req, res)) res.writeHead(404).end("fallback");
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("docs page", () => {
  it("serves the HTML page with safe headers and only same-origin assets", async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe(DOCS_CSP);
    const html = await res.text();
    expect(html).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>/);
  });

  it.each([
    ["/docs/assets/swagger-ui.css", "text/css; charset=utf-8"],
    ["/docs/assets/swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
    ["/docs/assets/init.js", "text/javascript; charset=utf-8"],
  ])("serves %s from the installed package", async (path, type) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect((await res.text()).length).toBeGreaterThan(50);
  });

  it("points Swagger UI at the OpenAPI document", async () => {
    expect(await (await fetch(`${base}/docs/assets/init.js`)).text()).toContain('"url":"/openapi.json"');
  });

  it("redirects /docs/, refuses other verbs, and leaves other paths alone", async () => {
    const slash = await fetch(`${base}/docs/`, { redirect: "manual" });
    expect([slash.status, slash.headers.get("location")]).toEqual([308, "/docs"]);
    const post = await fetch(`${base}/docs`, { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    for (const path of ["/docs/assets/../../package.json", "/docs/assets/index.html", "/docsx", "/rooms"]) {
      expect(await (await fetch(`${base}${path}`)).text()).toBe("fallback");
    }
  });
});
