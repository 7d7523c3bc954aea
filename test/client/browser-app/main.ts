/**
 * The suite's app in Chromium: @parley/client/web, bundled by vite, driven by the test through
 * `window.parleyTest` (test/client/support/browser-subscriber.ts).
 */
import { createParleyClient, type WebProtocol } from "@parley/client/web";
import { RecordingSubscriber } from "../support/recording-subscriber.js";

let app: RecordingSubscriber | undefined;

/** The settings the test passes for one app. */
interface Settings {
  transport: WebProtocol;
  token: string;
  heartbeatIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
}

const api = {
  create(settings: Settings): void {
    app = new RecordingSubscriber(createParleyClient({ baseUrl: location.origin, ...settings }));
  },
  /** Calls a method of the app; resolves with its (plain-data) result. */
  call(method: keyof RecordingSubscriber, args: unknown[]): Promise<unknown> {
    if (!app) throw new Error("no app: call create() first");
    const fn = app[method] as (...a: unknown[]) => Promise<unknown>;
    return fn.apply(app, args);
  },
};

declare global {
  interface Window {
    parleyTest: typeof api;
  }
}
window.parleyTest = api;
document.body.dataset.ready = "true";
