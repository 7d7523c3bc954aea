/**
 * The command line of `npm run bench -- <workload> [options]`, parsed once into typed options
 * with each workload's defaults. Unknown flags and bad values stop the run with a message.
 */
import { type PostVia, VIAS, type Via } from "./load/protocol.js";

export type Workload = "fanout" | "chat" | "ingest" | "baseline" | "join-storm" | "typing";
const WORKLOADS: readonly Workload[] = ["fanout", "chat", "ingest", "baseline", "join-storm", "typing"];
/** Workloads whose subscribers are room streams of Parley, and so can ask for presence frames. */
const PRESENCE_WORKLOADS: readonly Workload[] = ["fanout", "chat", "typing"];

export interface BenchOptions {
  readonly workload: Workload;
  /** Users connected (fanout: subscribers of the one room; chat: users; ingest: posters). */
  readonly users: number;
  /** A sweep: every value of `--users a,b,c` × `--rate x,y` is a run (the first is `users`/`rate`). */
  readonly sweep: { readonly users: readonly number[]; readonly rates: readonly number[] };
  readonly via: Via;
  /** fanout: messages posted, and the pause between them. */
  readonly messages: number;
  readonly intervalMs: number;
  /** fanout: unmeasured posts before the measured ones (JIT warm-up, for every server alike). */
  readonly warmup: number;
  /** Characters of each message text. */
  readonly size: number;
  /** chat: aggregate posts/s; typing: SetTyping calls/s; chat/ingest/typing: seconds of load; join-storm: seconds over which subscribers open. */
  readonly rate: number;
  readonly durationS: number;
  readonly dmShare: number;
  /** chat: how posts travel (default: each user's own socket for ws-mux, else gRPC). */
  readonly postVia: PostVia;
  /** Users per room in chat. */
  readonly roomSize: number;
  /** Load processes (default: enough for ≤ 15,000 sockets each). */
  readonly loadProcs: number | undefined;
  /** Connection attempts in flight per load process (default: 512 over all of them). */
  readonly connectConcurrency: number | undefined;
  readonly signup: "seed" | "api";
  readonly sqliteSynchronous: "FULL" | "NORMAL";
  /** Server worker processes (WORKERS): a number or "auto" (one per core, the server's default). */
  readonly workers: string;
  readonly cpuProfDir: string | undefined;
  /** Niceness of the server processes (0: none); above 0 the load generator on the same cores is served first. */
  readonly serverNice: number;
  /** Write the load processes' V8 CPU profiles into this directory. */
  readonly loadCpuProfDir: string | undefined;
  /** Write raw figures as JSON: "-" = stdout. */
  readonly json: string | undefined;
  /** Append the table to BENCHMARKS.md. */
  readonly append: boolean;
  readonly quiet: boolean;
  readonly keepData: boolean;
  /** Extra server environment (--env KEY=VALUE, repeatable). */
  readonly env: Readonly<Record<string, string>>;
  /** Free text shown in the report (e.g. what changed). */
  readonly note: string;
  /** Extra Node flags for the server process (--node-arg, repeatable), e.g. --heapsnapshot-signal=SIGUSR2. */
  readonly nodeArgs: readonly string[];
  /** Seconds to wait once everyone is connected, before the workload (to inspect the server). */
  readonly holdS: number;
  /** The server's adapters. With the Cassandra store, two nodes share it (see workloads/parley.ts). */
  readonly store: "sqlite" | "cassandra";
  readonly bus: "memory" | "kafka";
  /** Two-node runs: subscribers on node B while the poster posts on node A (else both on A). */
  readonly crossNode: boolean;
  /** Room streams ask for presence frames (--presence; always on in join-storm). */
  readonly presence: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run bench -- <fanout|chat|ingest|baseline|join-storm|typing> [options]
  join-storm: N subscribers of one room, all with presence, open at an even pace over --duration
              while a poster posts every --interval-ms; then --messages check posts to everyone
  typing:     N subscribers of one room; --rate SetTyping calls/s for --duration by distinct
              typists (not subscribers), each typing every 3 s (the server throttles at 2 s)
  --users N[,N…]       users (fanout/join-storm/typing: subscribers; chat: users; ingest: posters=concurrency)
                       [fanout 1000, chat 1000, ingest 64, join-storm 10000, typing 10000]
  --via V              ${VIAS.join("|")}   [fanout ws, join-storm ws, typing ws, chat grpc]
  --presence           room streams ask for presence frames (fanout, chat, typing; join-storm always); not with bare
  --messages M         fanout: posts to the room [20]; join-storm: check posts after the storm [5]
  --interval-ms MS     pause between fanout / join-storm posts [200]
  --warmup K           fanout: unmeasured posts first, for every server alike [3]
  --size B             message text size in characters [128]
  --rate R[,R…]        chat: aggregate posts/s [1000]; typing: SetTyping calls/s [10]
  --duration S         seconds of load [chat 60, ingest 20, typing 30]; join-storm: of opening [60]
  --dm-share F         chat: share of direct messages [0.2]    --room-size K  chat: users per room [20]
  --post-via grpc|ws   chat: post over gRPC or each user's /ws socket [ws for --via ws-mux, else grpc]
  --load-procs P       load processes [ceil(sockets / 15000)]  --connect-concurrency C  per process [512 / P]
  --signup seed|api    how users are made (see bench/users.ts) [seed]
  --sqlite-synchronous FULL|NORMAL [FULL]                  --workers N|auto  server worker processes [auto]
  --cpu-prof DIR       write the server's V8 CPU profile into DIR   --load-cpu-prof DIR  the same for load processes
  --env KEY=VALUE      extra server environment (repeatable)    --node-arg FLAG  extra server Node flag (repeatable)
  --hold S             wait S seconds after connecting (inspect the server: heap snapshot, ss)
  --json PATH|-        write raw figures as JSON       --no-append  do not append to BENCHMARKS.md
  --note TEXT          shown with the results          --quiet      no progress on stderr
  --keep-data          keep the data directory
  --server-nice N      niceness of the server processes (Parley and bare alike): the load
                       generator sharing their cores is served first [0: none]
  --store sqlite|cassandra  --bus memory|kafka   scale-out adapters (needs the engines: eval "$(bash scripts/engines.sh start)");
                       with cassandra, fanout runs two nodes and reports A→A next to A→B (cross-node) delivery`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const [workload, ...rest] = argv;
  if (!WORKLOADS.includes(workload as Workload)) throw new UsageError(`unknown workload ${JSON.stringify(workload ?? "")}`);
  const flags = new Map<string, string>();
  const env: Record<string, string> = {};
  const nodeArgs: string[] = [];
  const booleans = new Set(["--no-append", "--quiet", "--keep-data", "--presence"]);
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (booleans.has(flag)) {
      flags.set(flag, "true");
      continue;
    }
    const value = rest[++i];
    if (!flag.startsWith("--") || value === undefined) throw new UsageError(`bad argument ${JSON.stringify(flag)}`);
    if (flag === "--env") {
      const eq = value.indexOf("=");
      if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got ${JSON.stringify(value)}`);
      env[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (flag === "--node-arg") nodeArgs.push(value);
    else flags.set(flag, value);
  }
  const known = new Set([
    "--users", "--server-nice", "--via", "--messages", "--interval-ms", "--warmup", "--size", "--rate", "--duration", "--dm-share", "--post-via", "--room-size",
    "--load-procs", "--connect-concurrency", "--signup", "--sqlite-synchronous", "--workers", "--cpu-prof", "--load-cpu-prof", "--json", "--note", "--hold", "--store", "--bus",
    ...booleans,
  ]);
  for (const flag of flags.keys()) if (!known.has(flag)) throw new UsageError(`unknown option ${flag}`);
  const num = (flag: string, fallback: number, min: number, max: number): number => {
    const raw = flags.get(flag);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}`);
    return value;
  };
  const oneOf = <T extends string>(flag: string, fallback: T, allowed: readonly T[]): T => {
    const raw = flags.get(flag) ?? fallback;
    if (!allowed.includes(raw as T)) throw new UsageError(`${flag} must be one of ${allowed.join(", ")}`);
    return raw as T;
  };
  /** A comma-separated list of numbers (a sweep), each checked like num(). */
  const list = (flag: string, fallback: number, min: number, max: number): number[] => {
    const raw = flags.get(flag);
    if (raw === undefined) return [fallback];
    return raw.split(",").map((part) => {
      const value = Number(part);
      if (part === "" || !Number.isFinite(value) || value < min || value > max) throw new UsageError(`${flag} takes numbers from ${min} to ${max}, comma-separated`);
      return value;
    });
  };
  const w = workload as Workload;
  const users = list("--users", w === "ingest" ? 64 : w === "join-storm" || w === "typing" ? 10_000 : 1000, 1, 1_000_000).map(Math.floor);
  const rates = list("--rate", w === "typing" ? 10 : 1000, w === "typing" ? 0.1 : 1, 1_000_000);
  if (w === "baseline" && users.length * rates.length > 1) throw new UsageError("baseline takes one --users value (run it once per N)");
  const loadProcs = flags.has("--load-procs") ? num("--load-procs", 1, 1, 64) : undefined;
  const via = oneOf("--via", w === "chat" ? "grpc" : w === "ingest" ? "grpc" : "ws", VIAS);
  if (flags.has("--presence") && !PRESENCE_WORKLOADS.includes(w)) {
    throw new UsageError(`--presence is for ${PRESENCE_WORKLOADS.join(", ")} (join-storm always asks for presence)`);
  }
  const presence = w === "join-storm" || flags.has("--presence");
  if ((presence || w === "typing") && via === "bare") throw new UsageError("the bare ws baseline has no presence or typing frames: pick another --via");
  if ((w === "join-storm" || w === "typing") && flags.get("--store") === "cassandra") {
    throw new UsageError(`${w} runs on one node: leave --store at sqlite`);
  }
  const postVia = oneOf<PostVia>("--post-via", via === "ws-mux" ? "ws" : "grpc", ["grpc", "ws"]);
  if (postVia === "ws" && via !== "ws-mux") throw new UsageError("--post-via ws needs --via ws-mux (posts go over the user's /ws socket)");
  if (flags.get("--store") === "cassandra" && flags.get("--signup") === "seed") throw new UsageError("--signup seed writes SQLite: use --signup api with --store cassandra");
  return {
    workload: w,
    users: users[0]!,
    sweep: { users, rates },
    via,
    messages: Math.floor(num("--messages", w === "join-storm" ? 5 : 20, 1, 100_000)),
    intervalMs: num("--interval-ms", 200, 0, 60_000),
    warmup: Math.floor(num("--warmup", 3, 0, 1000)),
    size: Math.floor(num("--size", 128, 24, 4000)),
    rate: rates[0]!,
    durationS: num("--duration", w === "ingest" ? 20 : w === "typing" ? 30 : 60, 1, 3600),
    dmShare: num("--dm-share", 0.2, 0, 1),
    postVia,
    roomSize: Math.floor(num("--room-size", 20, 1, 100_000)),
    loadProcs,
    connectConcurrency: flags.has("--connect-concurrency") ? Math.floor(num("--connect-concurrency", 256, 1, 10_000)) : undefined,
    // Seeding writes straight into a SQLite file; a Cassandra store gets its users over the API.
    signup: oneOf("--signup", flags.get("--store") === "cassandra" ? "api" : "seed", ["seed", "api"]),
    store: oneOf("--store", "sqlite", ["sqlite", "cassandra"]),
    bus: oneOf("--bus", "memory", ["memory", "kafka"]),
    crossNode: false,
    presence,
    sqliteSynchronous: oneOf("--sqlite-synchronous", "FULL", ["FULL", "NORMAL"]),
    workers: flags.get("--workers") ?? "auto",
    cpuProfDir: flags.get("--cpu-prof"),
    serverNice: Math.floor(num("--server-nice", 0, 0, 19)),
    loadCpuProfDir: flags.get("--load-cpu-prof"),
    json: flags.get("--json"),
    append: !flags.has("--no-append"),
    quiet: flags.has("--quiet"),
    keepData: flags.has("--keep-data"),
    env,
    note: flags.get("--note") ?? "",
    nodeArgs,
    holdS: num("--hold", 0, 0, 3600),
  };
}

/** Source addresses client sockets are spread over (past the ~28k ephemeral ports of one). */
export const LOCAL_ADDRESSES: readonly string[] = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
/** Sockets one load process holds at most (its descriptor limit is 20,000). */
export const SOCKETS_PER_LOAD_PROCESS = 15_000;
