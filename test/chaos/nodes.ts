/**
 * The two Parley nodes of a chaos scenario: real processes (test/support/server.ts) on the
 * private engines, sharing one keyspace, one topic prefix and one token key, as a deployment
 * behind a load balancer runs them. A node can run a skewed clock (Debian's libfaketime, put in
 * front of Node with LD_PRELOAD; cluster workers inherit it) and can be killed whole: SIGKILL to
 * every process of it, workers first, as a machine that loses power.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { startServer, type TestServer } from "../support/server.js";
import type { EnginesEnv } from "./private-engines.js";

export type NodeName = "a" | "b";
export const NODE_NAMES: readonly NodeName[] = ["a", "b"];

/** libfaketime as packaged by Debian (`apt-get install faketime`). */
export const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

export interface NodeOptions {
  /** WORKERS of the node (default 1). */
  readonly workers?: number;
  /** Offset of the node's clock in seconds, e.g. -2 (libfaketime's FAKETIME="-2s"). */
  readonly clockSkewSeconds?: number;
}

/** What every node of one suite run shares. */
export interface Deployment {
  readonly engines: EnginesEnv;
  readonly keyspace: string;
  readonly topicPrefix: string;
  readonly tokenKeyPem: string;
}

/** Deployments whose keyspace and topics a node start has already created. */
const prepared = new WeakSet<Deployment>();

export class Nodes {
  readonly #servers = new Map<NodeName, TestServer>();
  readonly #killed = new Set<NodeName>();

  private constructor() {}

  /**
   * Starts both nodes: A alone first the first time for a deployment (that start creates the
   * keyspace and the topics), both at once after that.
   */
  static async start(deployment: Deployment, options: Readonly<Partial<Record<NodeName, NodeOptions>>>): Promise<Nodes> {
    const nodes = new Nodes();
    const start = async (name: NodeName) => {
      nodes.#servers.set(name, await startServer({ env: nodeEnv(deployment, 10 + 10 * NODE_NAMES.indexOf(name), options[name] ?? {}) }));
    };
    try {
      if (!prepared.has(deployment)) await start("a");
      await Promise.all(NODE_NAMES.filter((n) => !nodes.#servers.has(n)).map(start));
      prepared.add(deployment);
    } catch (error) {
      await nodes.stop();
      throw error;
    }
    return nodes;
  }

  url(name: NodeName): string {
    return this.#server(name).url;
  }

  /** False once the node was killed (or crashed). */
  alive(name: NodeName): boolean {
    return !this.#killed.has(name) && this.#server(name).alive();
  }

  /** A live node: `preferred` if it is alive, else the other one. */
  pick(preferred: NodeName): NodeName {
    return this.alive(preferred) ? preferred : other(preferred);
  }

  /** What the node printed (for failure messages). */
  output(name: NodeName): string {
    return this.#server(name).output();
  }

  /** SIGKILL to each of the node's processes (workers first, then the primary). */
  async kill(name: NodeName): Promise<void> {
    const server = this.#server(name);
    this.#killed.add(name);
    for (const pid of descendants(server.pid).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await server.kill();
  }

  /** Stops the nodes still running (SIGTERM, no grace period). */
  async stop(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((s) => s.stop()));
  }

  #server(name: NodeName): TestServer {
    const server = this.#servers.get(name);
    if (!server) throw new Error(`node ${name} was not started`);
    return server;
  }
}

export function other(name: NodeName): NodeName {
  return name === "a" ? "b" : "a";
}

function nodeEnv(deployment: Deployment, workerId: number, options: NodeOptions): Record<string, string> {
  const skew = options.clockSkewSeconds ?? 0;
  if (skew !== 0 && !existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime`);
  return {
    ...deployment.engines,
    STORE: "cassandra",
    BUS: "kafka",
    CASSANDRA_KEYSPACE: deployment.keyspace,
    CASSANDRA_CONSISTENCY: "ONE",
    KAFKA_TOPIC_PREFIX: deployment.topicPrefix,
    WORKER_ID: String(workerId),
    WORKERS: String(options.workers ?? 1),
    TOKEN_PRIVATE_KEY: deployment.tokenKeyPem,
    HEARTBEAT_SECONDS: "2",
    ...(skew === 0 ? {} : { LD_PRELOAD: LIBFAKETIME, FAKETIME: `${skew > 0 ? "+" : ""}${skew}s` }),
  };
}

/** `pid` and every process below it, parents before children (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; field 2 (the name) may hold spaces, so count from its ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}
