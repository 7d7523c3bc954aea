/** The client's fault suite over gRPC-Web from a page in Chromium (fetch, HTTP/1.1). */
import type { Browser } from "playwright-core";
import { browserSubscriber, buildBrowserApp, launchChromium } from "./support/browser-subscriber.js";
import { faultSuite } from "./support/suite.js";

let browser: Browser;
let webDir = "";

faultSuite({
  label: "gRPC-Web (Chromium)",
  async setUp() {
    webDir = await buildBrowserApp();
    browser = await launchChromium();
  },
  async tearDown() {
    await browser?.close();
  },
  serverEnv: () => ({ WEB_DIR: webDir }),
  appFor: (h) => (token) => browserSubscriber(browser, h.proxy.url, "grpc-web", token),
});
