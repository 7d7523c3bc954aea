/**
 * One real server (restartable on its port and data), a TCP proxy in front of it for the app
 * under test, and direct Node clients for the test's own posts and sign-outs.
 */
import { createParleyClient, type ParleyClient } from "@parley/client/node";
import { startServer, type TestServer } from "../../support/server.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** The env every suite server gets, whatever test/support/server.ts defaults to. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  WORKERS: "1",
  SHUTDOWN_GRACE_SECONDS: "0",
  RATE_LIMIT_PER_SECOND: "100000",
  RATE_LIMIT_BURST: "100000",
  FLOOD_LIMIT_PER_SECOND: "100000",
  FLOOD_LIMIT_BURST: "100000",
  SIGNIN_LIMIT_PER_MINUTE: "100000",
  SIGNIN_ADDRESS_LIMIT_PER_MINUTE: "1000000",
  SIGNIN_ADDRESS_BURST: "100000",
  SIGNIN_ADDRESS_CONCURRENCY: "100000",
};

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
  const fullEnv = { ...BASE_ENV, HEARTBEAT_SECONDS: "1", ...env };
  let server = await startServer({ env: fullEnv });
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
      server = await startServer({ dataDir, port, env: fullEnv });
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
