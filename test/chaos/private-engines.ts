/**
 * The chaos suite's own Kafka and Cassandra, started with scripts/engines.sh under a temporary
 * ENGINES_HOME on free ports, so that pausing and killing them never touches the shared engines
 * other tests use. The jars come from the shared engines' cache (ENGINES_CACHE), so nothing is
 * downloaded twice. Every signal goes to a pid read from this ENGINES_HOME's pid files and
 * checked against the process's command line (which names this ENGINES_HOME) before it is sent.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "scripts/engines.sh");

export type Engine = "kafka" | "cassandra";
export type EngineSignal = "SIGSTOP" | "SIGCONT" | "SIGKILL";

/** What a Parley node needs to reach the private engines. */
export interface EnginesEnv {
  readonly CASSANDRA_CONTACT_POINTS: string;
  readonly CASSANDRA_LOCAL_DC: string;
  readonly KAFKA_BROKERS: string;
}

export interface PrivateEngines {
  readonly env: EnginesEnv;
  /** The run directory: engine logs (kafka.log, cassandra.log) are here. */
  readonly home: string;
  /** Sends `signal` to that engine's JVM (only ever one started by this instance). */
  signal(engine: Engine, signal: EngineSignal): void;
  /** Starts Kafka again on the same ports and data after it was killed; resolves once it answers. */
  restartKafka(): Promise<void>;
  /** Undoes what a failed scenario may have left: SIGCONT to both, Kafka started again if it is gone. */
  ensureRunning(): Promise<void>;
  /** SIGCONT (a paused JVM ignores SIGTERM), stops both, removes the temporary home (its logs stay with `keep`). */
  stop(keep?: boolean): Promise<void>;
}

/** Starts both engines; resolves once both answer (Kafka with its coordinators warm). */
export async function startPrivateEngines(): Promise<PrivateEngines> {
  const home = mkdtempSync(join(tmpdir(), "parley-chaos-engines-"));
  const [kafka, controller, cql, storage] = await freePorts(4);
  const env: Record<string, string> = {
    ENGINES_HOME: home,
    // The jars of the shared engines (scripts/engines.sh's default home unless told otherwise).
    ENGINES_CACHE: process.env["ENGINES_CACHE"] || process.env["ENGINES_HOME"] || join(homedir(), ".cache/parley-engines"),
    ENGINES_KAFKA_PORT: String(kafka),
    ENGINES_KAFKA_CONTROLLER_PORT: String(controller),
    ENGINES_CASSANDRA_PORT: String(cql),
    ENGINES_CASSANDRA_STORAGE_PORT: String(storage),
  };
  const run = (extra: Record<string, string>, command: string) => engines(command, { ...env, ...extra });
  try {
    await run({}, "start");
  } catch (error) {
    await run({}, "stop").catch(() => undefined);
    throw error;
  }
  const pidOf = (engine: Engine): number => {
    const pid = Number(readFileSync(join(home, "run", `${engine}.pid`), "utf8").trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes(home)) throw new Error(`pid ${pid} is not the ${engine} started under ${home}`);
    return pid;
  };
  /** SIGCONT to each engine that runs; which ones do. */
  const resume = (): Record<Engine, boolean> => {
    const running = { kafka: false, cassandra: false };
    for (const engine of ["kafka", "cassandra"] as const) {
      try {
        process.kill(pidOf(engine), "SIGCONT");
        running[engine] = true;
      } catch {
        // not running
      }
    }
    return running;
  };
  return {
    env: { CASSANDRA_CONTACT_POINTS: `127.0.0.1:${cql}`, CASSANDRA_LOCAL_DC: "datacenter1", KAFKA_BROKERS: `127.0.0.1:${kafka}` },
    home: join(home, "run"),
    signal(engine, signal) {
      process.kill(pidOf(engine), signal);
    },
    async restartKafka() {
      await run({ ENGINES: "kafka", ENGINES_KEEP_DATA: "1" }, "start");
    },
    async ensureRunning() {
      const running = resume();
      if (!running.kafka) await run({ ENGINES: "kafka", ENGINES_KEEP_DATA: "1" }, "start");
      if (!running.cassandra) throw new Error(`the private Cassandra is gone (log: ${join(home, "run/cassandra.log")})`);
    },
    async stop(keep = false) {
      resume();
      await run({}, "stop");
      // Kept for its logs only: the data goes either way.
      const remove = keep ? ["run/kafka/data", "run/cassandra/data"].map((d) => join(home, d)) : [home];
      for (const path of remove) rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Runs scripts/engines.sh; rejects with its stderr (the script's own log) when it fails. */
function engines(command: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile("bash", [SCRIPT, command], { env: { ...process.env, ...env }, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/engines.sh ${command} failed: ${error.message}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}

/** `n` distinct loopback ports that were free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
