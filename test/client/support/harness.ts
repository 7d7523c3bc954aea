/**
 * One real server (restartable on its port and data), a TCP proxy in front of it for the app
 * under test, and direct Node clients for the test's own posts and sign-outs.
 */
import { createParleyClient, type ParleyClient } from "@parley/client/node";
import { startServer, type TestServer } from "../../support/server.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** How every suite server departs from a user's node (test/support/server.ts), and why. */
export const SUITE_SERVER = {
  oneProcess: "the fault suite restarts and kills the node mid-stream; written against one process, not yet run with workers",
  raisedLimits: "the suite signs up and posts as many users from a few loopback addresses",
} as const;

/** Settings every suite server gets: streams stop at once on SIGTERM (the restarts test the client, not the drain). */
export const SUITE_ENV: Readonly<Record<string, string>> = { SHUTDOWN_GRACE_SECONDS: "0" };

/** Client settings of the suite: quick backoff, the server's 1 s heartbeat. */
export const SUITE_CLIENT = { heartbeatIntervalMs: 1_000, backoff: { initialMs: 50, maxMs: 1_000 } } as const;

export const PASSWORD = "correct horse battery";

export interface Harness {
  server: TestServer;
  readonly proxy: TcpProxy;
  /** Restarts the server on its port and data: SIGTERM (a clean stop) or SIGKILL (a crash). */
  restart(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** A client straight to the server (not through the proxy), signed in as `token` if given. */
  direct(token?: string): ParleyClient;
  /** Signs a new user up; returns its name and a fresh token. */
  newUser(prefix: string): Promise<{ username: string; token: string }>;
  /** A value of the server's /metrics. */
  metric(pattern: RegExp): Promise<number>;
  close(): Promise<void>;
}

let users = 0;

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const fullEnv = { ...SUITE_ENV, HEARTBEAT_SECONDS: "1", ...env };
  let server = await startServer({ ...SUITE_SERVER, env: fullEnv });
  const proxy = await startTcpProxy(server.port);
  const clients: ParleyClient[] = [];
  const harness: Harness = {
    get server() {
      return server;
    },
    set server(s) {
      server = s;
    },
    proxy,
    async restart(signal) {
      const { dataDir, port } = server;
      if (signal === "SIGTERM") await server.stop();
      else await server.kill();
      server = await startServer({ ...SUITE_SERVER, dataDir, port, env: fullEnv });
    },
    direct(token) {
      const client = createParleyClient({ baseUrl: server.url, transport: "connect", ...(token ? { token } : {}), backoff: SUITE_CLIENT.backoff });
      clients.push(client);
      return client;
    },
    async newUser(prefix) {
      const username = `${prefix.slice(0, 12)}_${(process.pid % 1000).toString(36)}${(users++).toString(36)}${Date.now().toString(36).slice(-5)}`;
      const client = harness.direct();
      await client.signUp(username, PASSWORD);
      const { accessToken } = await client.signIn(username, PASSWORD);
      return { username, token: accessToken };
    },
    async metric(pattern) {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const match = pattern.exec(text);
      if (!match) throw new Error(`no ${pattern} in /metrics`);
      return Number(match[1]);
    },
    async close() {
      for (const client of clients) client.close();
      await proxy.close();
      await server.stop();
    },
  };
  return harness;
}
