/**
 * What a node promises, whatever its worker count: each test runs against a node of one process
 * and a node of two workers (the default on a two-core machine, WORKERS=auto), so that a
 * promise kept by one process but not by the node — state one worker holds and the other does
 * not see — fails here. Requests that must reach every worker go on fresh connections: the
 * primary deals connections out to the workers in turn. (Shutdown under both counts:
 * shutdown-drain.test.ts.)
 */
import { Agent } from "node:http";
import { Code } from "@connectrpc/connect";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatClients, newUser, uniqueName } from "../support/clients.js";
import { nextLoopbackAddress, send } from "../support/loopback.js";
import { startServer, type TestServer } from "../support/server.js";
import { subscribe } from "../support/stream-subscribers.js";
import { collect } from "../support/frames.js";

const PASSWORD = "correct horse battery";

describe.each([1, 2])("a node of %i worker(s)", (workers) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** GET /me with `token`, each on a connection of its own: the statuses, in order. */
  async function meOnFreshConnections(token: string, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const agent = new Agent({ keepAlive: false });
      statuses.push((await send(agent, server.url, { path: "/me", headers: { authorization: `Bearer ${token}` } })).status);
      agent.destroy();
    }
    return statuses;
  }

  it("signs up, signs in in any letter case, and after sign-out refuses the token on every worker", async () => {
    const name = uniqueName("Auth");
    const anon = chatClients(server.url, undefined, "connect-json", nextLoopbackAddress());
    const { user } = await anon.auth.signUp({ username: name, password: PASSWORD });
    expect(user?.username).toBe(name);
    await expect(anon.auth.signUp({ username: name.toLowerCase(), password: PASSWORD })).rejects.toMatchObject({ code: Code.AlreadyExists });
    const signedIn = await anon.auth.signIn({ username: name.toUpperCase(), password: PASSWORD });
    expect(signedIn.user).toEqual(user);
    expect(await meOnFreshConnections(signedIn.accessToken, 4)).toEqual([200, 200, 200, 200]);

    await chatClients(server.url, signedIn.accessToken).auth.signOut({});
    if (workers > 1) {
      // Reported in #17: sign-out returns before the other workers know (the revocation reaches
      // them over the primary's relay, "within the bus latency", DESIGN.md Auth), and a worker
      // that checked the token in the last 10 s answers from its cache: right after sign-out a
      // request on another worker was seen to pass ([200, 401, 401, 401]). A poll with a
      // deadline: the relay's delivery is no event a client can see.
      const deadline = Date.now() + 2_000;
      while ((await meOnFreshConnections(signedIn.accessToken, 2)).includes(200) && Date.now() < deadline);
    }
    expect(await meOnFreshConnections(signedIn.accessToken, 4)).toEqual([401, 401, 401, 401]);
    await expect(chatClients(server.url, signedIn.accessToken, "grpc").rooms.listRooms({})).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  /*
   * The per-username sign-in limit is the node's: with the default SIGNIN_LIMIT_PER_MINUTE of
   * 10, at most 10 attempts on one username are answered before the 429s, whichever workers
   * they reach (each worker kept its own bucket once, and a node of two admitted 20). Attempts
   * come from distinct loopback addresses, so the per-address budget is not what stops them,
   * and in letter-case variants.
   */
  it("answers at most SIGNIN_LIMIT_PER_MINUTE sign-in attempts on one username", async () => {
    expect.assertions(2);
    const user = await newUser(server.url);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 24; attempt++) {
      const username = attempt % 2 === 0 ? user.user.username.toUpperCase() : user.user.username;
      const agent = new Agent({ keepAlive: false, localAddress: `127.0.1.${attempt + 1}` });
      statuses.push((await send(agent, server.url, { path: "/auth/signin", json: { username, password: "wrong password" } })).status);
      agent.destroy();
    }
    const answered = statuses.filter((s) => s !== 429);
    expect(answered.every((s) => s === 401), statuses.join(" ")).toBe(true);
    // Ten a minute for the node (its workers lease from the primary's bucket), less the sign-in newUser made.
    expect(answered, statuses.join(" ")).toHaveLength(9);
  });

  /** Opens SSE with the ticket on a fresh connection: its status (the stream is cancelled at once). */
  async function sseStatus(ticket: string): Promise<number> {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/me/subscribe?ticket=${ticket}`, { headers: { accept: "text/event-stream", connection: "close" }, signal: controller.signal });
    controller.abort();
    return res.status;
  }

  /** Upgrades with the ticket: "open" or the refusal's status. */
  function wsOutcome(ticket: string): Promise<string> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/me/subscribe?ticket=${ticket}`);
      ws.once("open", () => {
        ws.terminate();
        resolve("open");
      });
      ws.once("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
      ws.once("error", () => resolve("error"));
    });
  }

  it("opens one stream per ticket, however many workers the attempts reach", async () => {
    expect.assertions(3 * 3);
    const user = await newUser(server.url);
    for (let round = 0; round < 3; round++) {
      const res = await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${user.token}` } });
      expect(res.status).toBe(200);
      const { ticket } = (await res.json()) as { ticket: string };
      // At once, over SSE and WebSocket, each on a fresh connection.
      const outcomes = await Promise.all([
        ...Array.from({ length: 4 }, () => sseStatus(ticket).then(String)),
        ...Array.from({ length: 4 }, () => wsOutcome(ticket)),
      ]);
      const opened = outcomes.filter((o) => o === "200" || o === "open");
      expect(opened, `round ${round}: ${outcomes.join(", ")}`).toHaveLength(1);
      expect(outcomes.filter((o) => o === "401"), `round ${round}: ${outcomes.join(", ")}`).toHaveLength(7);
    }
  });

  it("resumes with since after a reconnect: no message lost, none twice, while another user posts", async () => {
    const a = await newUser(server.url);
    const b = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("resume") });
    const roomId = room!.roomId;
    const first = await b.clients.messages.postMessage({ roomId, text: "m0" });
    for (let i = 1; i < 10; i++) await b.clients.messages.postMessage({ roomId, text: `m${i}` });
    // A poster keeps posting throughout: posts land during the replays, the switches to live and the reconnect.
    let posting = true;
    let n = 10;
    /** How many posts (m0, m1, …) are acknowledged: the poster posts one at a time. */
    let acknowledged = 10;
    const waits = new Set<() => void>();
    const untilAcknowledged = (count: number) =>
      new Promise<void>((resolve) => {
        const wake = () => {
          if (acknowledged < count) return;
          waits.delete(wake);
          resolve();
        };
        waits.add(wake);
        wake();
      });
    const poster = (async () => {
      while (posting) {
        await b.clients.messages.postMessage({ roomId, text: `m${n++}` });
        acknowledged = n;
        for (const wake of [...waits]) wake();
      }
    })();
    await untilAcknowledged(13);
    const last = (c: { texts: string[] }) => Number(c.texts.at(-1)?.slice(1) ?? -1);

    // The first connection reads past what was posted when it opened, then drops.
    const firstOpen = n;
    const one = new AbortController();
    const before = await collect(a.clients.messages.subscribeRoom({ roomId, since: first.message!.messageId }, { signal: one.signal })[Symbol.asyncIterator](), (c) => last(c) >= firstOpen + 5, 20_000);
    one.abort();
    // Posts sent after it dropped are the replay's; once two are acknowledged, a new connection
    // (another worker, with two) resumes after the last id it saw.
    const away = n;
    await untilAcknowledged(away + 2);
    const secondOpen = n;
    const two = new AbortController();
    const after = await collect(a.clients.messages.subscribeRoom({ roomId, since: before.ids.at(-1)! }, { signal: two.signal })[Symbol.asyncIterator](), (c) => last(c) >= secondOpen + 10, 20_000);
    two.abort();
    posting = false;
    await poster;

    expect(before.cases[0]).toBe("ready");
    expect(after.cases[0]).toBe("ready");
    const texts = [...before.texts, ...after.texts];
    expect(texts).toEqual([...Array(texts.length).keys()].map((i) => `m${i + 1}`));
    const ids = [...before.ids, ...after.ids];
    expect(new Set(ids).size).toBe(ids.length);
    // Both sides of the resume were exercised: replayed messages and live ones.
    expect(after.texts).toEqual(expect.arrayContaining([`m${away}`, `m${away + 1}`]));
    expect(last(after)).toBeGreaterThanOrEqual(secondOpen + 10);
  });

  it("ends the token's open streams on sign-out — gRPC with UNAUTHENTICATED, SSE with event: end, WebSocket with 4401 — and refuses new ones", async () => {
    expect.assertions(9);
    const a = await newUser(server.url);
    const { room } = await a.clients.rooms.createRoom({ name: uniqueName("bye") });
    const bearer = { authorization: `Bearer ${a.token}` };
    const rpc = [subscribe("grpc-js", server.url, a.token, { roomId: room!.roomId }), subscribe("connect-json", server.url, a.token, { direct: true })];
    const sse = await openSse(`${server.url}/me/subscribe`, bearer);
    const wsSingle = await openWs(`${server.url.replace("http", "ws")}/me/subscribe`, bearer);
    const wsMultiplexed = await openWs(`${server.url.replace("http", "ws")}/ws`, bearer);
    await Promise.all(rpc.map((s) => s.until((frames) => frames.some((f) => f.case === "ready"))));
    await sse.until("event: ready");
    await wsSingle.ready;

    await a.clients.auth.signOut({});
    for (const s of rpc) expect(await s.ended).toMatchObject({ code: Code.Unauthenticated });
    const end = (await sse.ended).split("\n\n").find((event) => event.split("\n").includes("event: end"));
    const data = end?.split("\n").find((line) => line.startsWith("data: "))?.slice("data: ".length);
    expect(JSON.parse(data ?? "null")).toEqual({ code: "unauthenticated", message: expect.any(String) });
    expect((await wsSingle.closed).code).toBe(4401);
    expect((await wsMultiplexed.closed).code).toBe(4401);

    // Reconnecting with the same token is refused, on every edge and (fresh connections) every worker.
    for (let i = 0; i < 2; i++) {
      const agent = new Agent({ keepAlive: false });
      expect((await send(agent, server.url, { path: "/me/subscribe", headers: { ...bearer, accept: "text/event-stream" } })).status).toBe(401);
      agent.destroy();
    }
    const again = subscribe("grpc", server.url, a.token, { direct: true });
    expect(await again.ended).toMatchObject({ code: Code.Unauthenticated });
  });
});

/** An SSE stream read as text: `until(text)` waits for it, `ended` resolves with all it read once the server ends it. */
async function openSse(url: string, headers: Record<string, string>): Promise<{ until(text: string): Promise<void>; ended: Promise<string> }> {
  const res = await fetch(url, { headers: { ...headers, accept: "text/event-stream" } });
  expect(res.status).toBe(200);
  let read = "";
  const waiting = new Set<() => void>();
  const ended = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      read += chunk.value;
      for (const wake of [...waiting]) wake();
    }
    return read;
  })();
  return {
    ended,
    until: (text) =>
      new Promise<void>((resolve, reject) => {
        const wake = () => {
          if (!read.includes(text)) return;
          waiting.delete(wake);
          resolve();
        };
        waiting.add(wake);
        void ended.then(() => reject(new Error(`the stream ended before ${JSON.stringify(text)}: ${read}`)), reject);
        wake();
      }),
  };
}

/** A WebSocket, open: `ready` resolves on its first "ready" frame, `closed` with the close code. */
function openWs(url: string, headers: Record<string, string>): Promise<{ ready: Promise<void>; closed: Promise<{ code: number }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const closed = new Promise<{ code: number }>((r) => ws.once("close", (code) => r({ code })));
    const ready = new Promise<void>((r) =>
      ws.on("message", (data) => {
        if ((JSON.parse(data.toString()) as { type?: string }).type === "ready") r();
      }),
    );
    ws.once("error", reject);
    ws.once("open", () => resolve({ ready, closed }));
  });
}
