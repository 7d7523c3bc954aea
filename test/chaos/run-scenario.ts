/**
 * Runs one chaos scenario end to end: two fresh Parley nodes on the private engines; users, rooms
 * and inboxes of its own; subscribers on both nodes over WebSocket, SSE and gRPC (half of them
 * resuming on a schedule); posters on both nodes; the scenario's fault while they work; then
 * a drain (until every subscriber has what it is owed, or DRAIN_MS), each channel's history read
 * with List from a live node, and the checker. Every random choice comes from the seed.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Rng } from "../support/fuzz-random.js";
import { chatClients, type ChatClients, type Protocol } from "../support/clients.js";
import { nextLoopbackAddress } from "../support/loopback.js";
import { check, type StoredMessage, type Verdict } from "./checker.js";
import { measure, probeClockOffsetMs, type FaultWindow, type Measures } from "./measures.js";
import { NODE_NAMES, Nodes, type Deployment, type NodeName, type NodeOptions } from "./nodes.js";
import { Poster, type PostChannel } from "./poster.js";
import type { PrivateEngines } from "./private-engines.js";
import { pause, Progress } from "./progress.js";
import { ChaosSubscriber, type SubscriberSpec } from "./subscriber.js";
import { TRANSPORTS } from "./streams.js";

const ROOMS = 3;
const POSTS_PER_SECOND = 50;
const POSTERS_PER_NODE = 2;
/** How long after the last answer subscribers get to catch up before the checker judges them. */
const DRAIN_MS = 15_000;
const READY_MS = 30_000;

export interface FaultContext {
  readonly engines: PrivateEngines;
  readonly nodes: Nodes;
  /** Resolves `ms` after posting began. */
  at(ms: number): Promise<void>;
  /** Marks the fault's start and end (for an instant fault, call both). */
  begin(): void;
  end(): void;
  /** Records a broken promise the fault itself checked (the scenario fails with it). */
  fail(problem: string): void;
}

export interface Scenario {
  /** Short key: test name, CHAOS_SCENARIOS filter, RELIABILITY.md row. */
  readonly name: string;
  readonly description: string;
  readonly nodes?: Readonly<Partial<Record<NodeName, NodeOptions>>>;
  readonly postSeconds: number;
  readonly fault?: (ctx: FaultContext) => Promise<void>;
  /** The contract's bounds for this fault (DESIGN.md, "Engine failures"); past them the scenario fails. */
  readonly bounds?: {
    /** Longest a post may wait for its answer while the fault lasts. */
    readonly worstAnswerMs?: number;
    /** Longest after the fault ends until posts succeed and live delivery resumes. */
    readonly recoveryMs?: number;
    /** Answers a post must not get during the fault (e.g. "internal": a 500). */
    readonly forbidden?: readonly string[];
  };
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly verdict: Verdict;
  readonly measures: Measures;
  readonly window: FaultWindow | undefined;
  readonly subscribers: number;
  readonly resumes: number;
  readonly unexpectedEnds: number;
  readonly seconds: number;
  /** Promises the fault checked itself that broke, and set-up problems that make the run meaningless (a skew that did not take). */
  readonly problems: readonly string[];
}

export async function runScenario(scenario: Scenario, deployment: Deployment, engines: PrivateEngines, seed: number): Promise<ScenarioResult> {
  const began = Date.now();
  const rng = Rng.forCase(seed, scenario.name, 0);
  const progress = new Progress();
  const nodes = await Nodes.start(deployment, scenario.nodes ?? {});
  const clockOffsetMs: Partial<Record<NodeName, number>> = {};
  for (const node of NODE_NAMES) clockOffsetMs[node] = await probeClockOffsetMs(nodes.url(node));
  let subscribers: ChaosSubscriber[] = [];
  try {
    const tag = `${scenario.name.replace(/[^a-z0-9]/g, "")}${began.toString(36)}`;
    const user = (role: string, home: NodeName, protocol: Protocol = "connect-json") => newUser(nodes, `${tag}${role}`, home, protocol);
    const readers = { a: await user("ra", "a"), b: await user("rb", "b") };
    const owners = [await user("oa", "a"), await user("ob", "b")];
    const posters = await Promise.all(
      NODE_NAMES.flatMap((home) => Array.from({ length: POSTERS_PER_NODE }, (_, i) => user(`p${home}${i}`, home, i % 2 === 0 ? "grpc" : "connect-json"))),
    );
    const rooms: string[] = [];
    for (let i = 0; i < ROOMS; i++) rooms.push(await retrying(async () => (await posters[0]!.clients.rooms.createRoom({ name: `${tag}r${i}` })).room!.roomId));

    const channels: PostChannel[] = [
      ...rooms.map((roomId) => ({ key: `room:${roomId}`, kind: "room" as const, roomId })),
      ...owners.map((o) => ({ key: `inbox:${o.userId}`, kind: "dm" as const, recipientUserId: o.userId })),
    ];
    const specs: SubscriberSpec[] = channels.flatMap((channel, c) =>
      TRANSPORTS.flatMap((transport) =>
        NODE_NAMES.map((home, h): SubscriberSpec => {
          const resumes = (c + h + TRANSPORTS.indexOf(transport)) % 2 === 1;
          return {
            name: `${channel.kind === "room" ? `room${rooms.indexOf(channel.roomId)}` : `inbox${owners.findIndex((o) => o.userId === channel.recipientUserId)}`}-${transport}-${home}${resumes ? "-resuming" : ""}`,
            transport,
            channel: channel.key,
            target: channel.kind === "room" ? { roomId: channel.roomId } : { inbox: true },
            token: channel.kind === "room" ? readers[home].token : owners.find((o) => o.userId === channel.recipientUserId)!.token,
            home,
            ...(resumes ? { resumeEveryMs: rng.range(2000, 4000) } : {}),
          };
        }),
      ),
    );
    subscribers = specs.map((spec) => new ChaosSubscriber(spec, nodes, progress, Rng.forCase(seed, `${scenario.name}/${spec.name}`, 0)));
    for (const s of subscribers) s.start();
    if (!(await progress.until(() => subscribers.every((s) => s.ready), READY_MS))) {
      throw new Error(`subscribers not ready within ${READY_MS} ms: ${subscribers.filter((s) => !s.ready).map((s) => `${s.record.spec.name} (${s.record.segments.map((g) => g.end).join("; ")})`).join(", ")}`);
    }

    // Load and fault, from the same start.
    const start = Date.now();
    const perPoster = POSTS_PER_SECOND / posters.length;
    const load = posters.map(
      (p, i) =>
        new Poster(
          { name: `${tag}p${i}`, token: p.token, home: p.home, protocol: p.protocol, perSecond: perPoster, maxInFlight: 40, channels },
          nodes,
          progress,
          Rng.forCase(seed, `${scenario.name}/poster`, i),
        ),
    );
    let window: { start?: number; end?: number } = {};
    const faultProblems: string[] = [];
    const ctx: FaultContext = {
      engines,
      nodes,
      at: (ms) => pause(start + ms - Date.now()),
      begin: () => (window.start = Date.now()),
      end: () => (window.end = Date.now()),
      fail: (problem) => void faultProblems.push(problem),
    };
    await Promise.all([...load.map((p) => p.run(start + scenario.postSeconds * 1000)), scenario.fault?.(ctx)]);
    const faultWindow = window.start !== undefined && window.end !== undefined ? { start: window.start, end: window.end } : undefined;

    const posts = load.flatMap((p) => p.records);
    const acked = posts.filter((p) => p.acked).map((p) => ({ clientMessageId: p.clientMessageId, channel: p.channel, id: p.acked!.id, firstSentAt: p.firstSentAt }));
    const listed = () => readHistories(nodes, posters[0]!.token, rooms, owners);
    const judge = (history: Map<string, StoredMessage[]>) =>
      check({ acked, history, subscribers: subscribers.map((s) => ({ ...s.record, name: s.record.spec.name, channel: s.record.spec.channel })) });
    const before = await listed();
    await progress.until(() => judge(before).subscribers.every((v) => v.lost.length === 0), DRAIN_MS, 250);
    await Promise.all(subscribers.map((s) => s.stop()));
    const verdict = judge(await listed());

    const records = subscribers.map((s) => s.record);
    const measures = measure(posts, records, faultWindow, clockOffsetMs);
    const problems: string[] = [...faultProblems];
    for (const node of NODE_NAMES) {
      const skewMs = (scenario.nodes?.[node]?.clockSkewSeconds ?? 0) * 1000;
      const seen = measures.clockOffsetMs[node];
      if (skewMs !== 0 && (seen === undefined || Math.abs(seen - skewMs) > 750)) {
        problems.push(`node ${node} should run ${skewMs} ms off but its HTTP Date shows ${seen} ms: libfaketime did not take`);
      }
    }
    return {
      scenario,
      seed,
      verdict,
      measures,
      window: faultWindow,
      subscribers: subscribers.length,
      resumes: records.reduce((n, r) => n + r.segments.length - 1, 0),
      unexpectedEnds: records.reduce((n, r) => n + r.segments.filter((g) => g.end !== "resume" && g.end !== "closed").length, 0),
      seconds: Math.round((Date.now() - began) / 1000),
      problems,
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.stop()));
    await nodes.stop();
  }
}

interface ChaosUser {
  readonly userId: string;
  readonly token: string;
  readonly home: NodeName;
  readonly protocol: Protocol;
  readonly clients: ChatClients;
}

/** Signs a user up and in on its home node (so a skewed node issues the tokens of its users). */
async function newUser(nodes: Nodes, name: string, home: NodeName, protocol: Protocol): Promise<ChaosUser> {
  // From an address of its own, as users come (the per-address sign-in budget is the server's default).
  const anon = chatClients(nodes.url(home), undefined, "connect-json", nextLoopbackAddress());
  const password = "correct horse battery";
  // A sign-up whose answer was lost and is retried finds the name taken: that is its success.
  await retrying(() => anon.auth.signUp({ username: name, password }).catch((error: unknown) => {
    if (ConnectError.from(error).code !== Code.AlreadyExists) throw error;
  }));
  const signedIn = await retrying(() => anon.auth.signIn({ username: name, password }));
  return { userId: signedIn.user!.userId, token: signedIn.accessToken, home, protocol, clients: chatClients(nodes.url(home), signedIn.accessToken) };
}

/**
 * Set-up calls, retried for a few seconds: a token issued by a node whose clock is ahead is
 * refused by the other until the clocks agree (a finding the run reports, not a set-up failure).
 */
async function retrying<T>(call: () => Promise<T>, forMs = 10_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(250);
    }
  }
}

/** Each channel's whole history, oldest first, as List pages it, from a live node. */
async function readHistories(nodes: Nodes, token: string, rooms: readonly string[], owners: readonly ChaosUser[]): Promise<Map<string, StoredMessage[]>> {
  const node = nodes.pick("b");
  const history = new Map<string, StoredMessage[]>();
  const page = 1000;
  const all = async (list: (before: string) => Promise<{ messages: { messageId: string; clientMessageId: string }[] }>) => {
    const out: StoredMessage[] = [];
    for (let before = ""; ; ) {
      const { messages } = await retrying(() => list(before));
      out.push(...messages.map((m) => ({ id: m.messageId, clientMessageId: m.clientMessageId })));
      if (messages.length < page) return out.reverse();
      before = messages.at(-1)!.messageId;
    }
  };
  const clients = chatClients(nodes.url(node), token);
  for (const roomId of rooms) history.set(`room:${roomId}`, await all((before) => clients.messages.listMessages({ roomId, pageSize: page, before })));
  for (const owner of owners) {
    const mine = chatClients(nodes.url(node), owner.token);
    history.set(`inbox:${owner.userId}`, await all((before) => mine.messages.listDirectMessages({ pageSize: page, before })));
  }
  return history;
}
