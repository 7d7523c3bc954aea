/**
 * The suite's app in Chromium (Debian's chromium through playwright-core, never a download): the
 * page of test/client/browser-app, built by vite and served by the server under test (WEB_DIR)
 * through the proxy, so the page and its calls share one origin and one broken network.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WebProtocol } from "@parley/client/web";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { SUITE_CLIENT } from "./harness.js";
import type { Condition, RecordedState, SubscriberApp } from "./subscriber-app.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const chromiumPath = "/usr/bin/chromium";

/** Builds the test page; returns the directory to serve as WEB_DIR. */
export async function buildBrowserApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "parley-client-page-"));
  const clientSrc = join(repo, "client/src/");
  await build({
    configFile: false,
    root: join(repo, "test/client/browser-app"),
    logLevel: "warn",
    resolve: {
      alias: [
        { find: /^@parley\/client$/, replacement: `${clientSrc}index.ts` },
        { find: /^@parley\/client\/(.*)$/, replacement: `${clientSrc}$1.ts` },
      ],
    },
    build: { outDir, emptyOutDir: true, target: "es2022" },
  });
  return outDir;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get update && apt-get install -y chromium`);
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Opens the test page at `origin` (the proxy) and makes an app over `transport` there. */
export async function browserSubscriber(browser: Browser, origin: string, transport: WebProtocol, token: string): Promise<SubscriberApp> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  await page.evaluate((settings) => window.parleyTest.create(settings), { transport, token, ...SUITE_CLIENT, backoff: { ...SUITE_CLIENT.backoff } });
  const call = async <T>(method: string, ...args: unknown[]): Promise<T> => {
    if (problems.length > 0) throw new Error(`the page failed: ${problems.join("; ")}`);
    return (await page.evaluate(([m, a]) => window.parleyTest.call(m as never, a as unknown[]), [method, args] as const)) as T;
  };
  return {
    subscribe: (roomId, options = {}) => call("subscribe", roomId, options),
    seen: () => call<string[]>("seen"),
    states: () => call<RecordedState[]>("states"),
    gaps: () => call<{ after: string; before: string }[]>("gaps"),
    position: () => call<string>("position"),
    until: (condition: Condition, timeoutMs?: number) => call("until", condition, timeoutMs),
    release: () => call("release"),
    setToken: (token) => call("setToken", token),
    resume: () => call("resume"),
    async close() {
      await call("close");
      await context.close();
    },
  };
}
