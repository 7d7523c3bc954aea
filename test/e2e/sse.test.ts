/**
 * SSE on the subscribe routes with a real EventSource-compatible client (the `eventsource`
 * package): events and ids, resume after a dropped connection and after a server restart with no
 * gap and no duplicate, heartbeats, browser credentials (cookie, single-use ticket), a slow
 * reader, and graceful shutdown (sign-out: worker-counts.test.ts).
 */
import { EventEmitter } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";

interface Seen {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

/**
 * Emits "change" whenever a test source records an event, an error or a request (and once more
 * on the next turn, for state the EventSource updates after dispatching): waits re-check then.
 */
const arrivals = new EventEmitter();
arrivals.setMaxListeners(0);
function changed(): void {
  arrivals.emit("change");
  setImmediate(() => arrivals.emit("change"));
}

/** An EventSource that records its events and the requests it made, and whose connection can be cut. */
function openSource(url: string, headers: Record<string, string> = {}) {
  const events: Seen[] = [];
  const errors: (number | undefined)[] = [];
  const requests: Headers[] = [];
  let cut: AbortController | undefined;
  const es = new EventSource(url, {
    fetch: async (input, init) => {
      requests.push(new Headers(init.headers));
      changed();
      const res = await fetch(input, { ...init, headers: { ...init.headers, ...headers } });
      if (!res.body) return res;
      // Pipe through a stream we can fail, like a dropped network connection (not an abort).
      cut = new AbortController();
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      res.body.pipeTo(writable, { signal: cut.signal }).catch(() => undefined);
      return new Response(readable, { status: res.status, statusText: res.statusText, headers: res.headers });
    },
  });
  for (const type of ["ready", "message", "gap", "end"]) {
    es.addEventListener(type, (e) => {
      events.push({ type, id: (e as MessageEvent).lastEventId, data: String((e as MessageEvent).data) });
      changed();
    });
  }
  es.addEventListener("error", (e) => {
    errors.push((e as { code?: number }).code);
    changed();
  });
  return {
    es,
    events,
    errors,
    requests,
    texts: () => events.filter((e) => e.type === "message").map((e) => (JSON.parse(e.data) as { text: string }).text),
    dropConnection: () => cut?.abort(new Error("network connection lost")),
  };
}

/** Resolves once `check()` holds, re-checked whenever a source records something; fails after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const onChange = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      arrivals.off("change", onChange);
    };
    arrivals.on("change", onChange);
  });
}

async function post(url: string, token: string, roomId: string, text: string): Promise<string> {
  const res = await fetch(`${url}/room/${roomId}/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { messageId: string }).messageId;
}

async function roomOf(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/rooms`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: uniqueName("sse") }),
  });
  return ((await res.json()) as { roomId: string }).roomId;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { HEARTBEAT_SECONDS: "1" } });
});
afterAll(async () => {
  await server?.stop();
});

describe("SSE", () => {
  it("sends ready, then each message once with id = message id and proto JSON data", async () => {
    const a = await newUser(server.url);
    const roomId = await roomOf(server.url, a.token);
    const s = openSource(`${server.url}/room/${roomId}/subscribe`, { authorization: `Bearer ${a.token}` });
    await until(() => s.events.some((e) => e.type === "ready"), "ready");
    expect(s.events[0]).toEqual({ type: "ready", id: "0", data: '{"position":"0","heartbeatInterval":"1s"}' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await post(server.url, a.token, roomId, `m${i}`));
    await until(() => s.texts().length >= 5, "5 messages");
    const messages = s.events.filter((e) => e.type === "message");
    expect(messages.map((e) => e.id)).toEqual(ids);
    expect(JSON.parse(messages[0]!.data)).toEqual({
      messageId: ids[0],
      roomId,
      sender: { userId: a.user.userId, username: a.user.username },
      text: "m0",
      createdAt: expect.stringMatching(/Z$/),
      clientMessageId: "",
    });
    s.es.close();
  });

  it("resumes after a dropped connection with Last-Event-ID: no gap, no duplicate", async () => {
    const a = await newUser(server.url);
    const roomId = await roomOf(server.url, a.token);
    const s = openSource(`${server.url}/room/${roomId}/subscribe`, { authorization: `Bearer ${a.token}` });
    await until(() => s.events.some((e) => e.type === "ready"), "ready");
    for (let i = 0; i < 3; i++) await post(server.url, a.token, roomId, `before${i}`);
    await until(() => s.texts().length >= 3, "3 messages");
    const lastId = s.events.at(-1)!.id;
    s.dropConnection();
    for (let i = 0; i < 3; i++) await post(server.url, a.token, roomId, `during${i}`);
    await until(() => s.requests.length >= 2, "a reconnect");
    for (let i = 0; i < 2; i++) await post(server.url, a.token, roomId, `after${i}`);
    await until(() => s.texts().length >= 8, "8 messages");
    expect(s.requests[1]!.get("last-event-id")).toBe(lastId);
    expect(s.texts()).toEqual(["before0", "before1", "before2", "during0", "during1", "during2", "after0", "after1"]);
    s.es.close();
  });

  it("resumes across a server restart on the same port", async () => {
    const own = await startServer();
    let restarted: TestServer | undefined;
    try {
      const a = await newUser(own.url);
      const roomId = await roomOf(own.url, a.token);
      const s = openSource(`${own.url}/room/${roomId}/subscribe`, { authorization: `Bearer ${a.token}` });
      await until(() => s.events.some((e) => e.type === "ready"), "ready");
      await post(own.url, a.token, roomId, "one");
      await until(() => s.texts().length >= 1, "first message");
      await own.stop();
      restarted = await startServer({ dataDir: own.dataDir, port: own.port });
      await post(restarted.url, a.token, roomId, "two");
      await until(() => s.texts().length >= 2, "the message posted while it reconnected", 20_000);
      await post(restarted.url, a.token, roomId, "three");
      await until(() => s.texts().length >= 3, "a live message after the restart");
      expect(s.texts()).toEqual(["one", "two", "three"]);
      s.es.close();
    } finally {
      await restarted?.stop();
      await own.stop();
    }
  });

  it("resumes with ?since= and with a Last-Event-ID header", async () => {
    const a = await newUser(server.url);
    const roomId = await roomOf(server.url, a.token);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await post(server.url, a.token, roomId, `h${i}`));
    const bySince = openSource(`${server.url}/room/${roomId}/subscribe?since=${ids[1]}`, { authorization: `Bearer ${a.token}` });
    const byHeader = openSource(`${server.url}/room/${roomId}/subscribe`, { authorization: `Bearer ${a.token}`, "last-event-id": ids[2]! });
    await until(() => bySince.texts().length >= 2 && byHeader.texts().length >= 1, "replays");
    expect(bySince.texts()).toEqual(["h2", "h3"]);
    expect(byHeader.texts()).toEqual(["h3"]);
    bySince.es.close();
    byHeader.es.close();
  });

  it("sends heartbeat comments on an idle stream", async () => {
    const a = await newUser(server.url);
    const res = await fetch(`${server.url}/me/subscribe`, { headers: { authorization: `Bearer ${a.token}`, accept: "text/event-stream" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = res.body!.getReader();
    let text = "";
    while (!/\n: heartbeat \S+\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^retry: \d+\n\nid: 0\nevent: ready\ndata: \{"position":"0","heartbeatInterval":"1s"\}\n\n/);
    await reader.cancel();
  });

  it("answers 401 and 404 before any stream starts", async () => {
    const a = await newUser(server.url);
    const noAuth = openSource(`${server.url}/me/subscribe`);
    const missing = openSource(`${server.url}/room/424242424242/subscribe`, { authorization: `Bearer ${a.token}` });
    await until(() => noAuth.errors.length > 0 && missing.errors.length > 0, "errors");
    expect(noAuth.errors[0]).toBe(401);
    expect(missing.errors[0]).toBe(404);
    expect(noAuth.es.readyState).toBe(EventSource.CLOSED);
    expect(noAuth.events).toEqual([]);
  });

  it("authenticates with the session cookie or a single-use ticket, never the token in the URL", async () => {
    const a = await newUser(server.url);
    const signIn = await fetch(`${server.url}/auth/signin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: a.user.username, password: a.password }),
    });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const byCookie = openSource(`${server.url}/me/subscribe`, { cookie });
    const ticket = ((await (await fetch(`${server.url}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${a.token}` } })).json()) as { ticket: string }).ticket;
    const byTicket = openSource(`${server.url}/me/subscribe?ticket=${ticket}`);
    await until(() => byCookie.events.length > 0 && byTicket.events.length > 0, "ready on both");
    expect(byCookie.events[0]!.type).toBe("ready");
    expect(byTicket.events[0]!.type).toBe("ready");
    const reused = openSource(`${server.url}/me/subscribe?ticket=${ticket}`);
    await until(() => reused.errors.length > 0, "the reused ticket refused");
    expect(reused.errors[0]).toBe(401);
    expect(server.output()).not.toContain(ticket);
    expect(server.output()).not.toContain(a.token);
    byCookie.es.close();
    byTicket.es.close();
  });

  it("counts open SSE streams and delivered messages in /metrics", async () => {
    const a = await newUser(server.url);
    const s = openSource(`${server.url}/me/subscribe`, { authorization: `Bearer ${a.token}` });
    await until(() => s.events.length > 0, "ready");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_open_streams\{transport="sse"\} [1-9]/);
    expect(metrics).toMatch(/parley_messages_delivered_total [1-9]/);
    s.es.close();
  });
});

describe("SSE with a slow reader", () => {
  it("closes the stream cleanly once its buffer stays full, and the reader resumes from its last id", async () => {
    const slow = await startServer({ raisedLimits: "one user posts hundreds of 16 KB messages as fast as the node takes them, to overflow a slow reader; the per-user limit would pace the poster instead", env: { STREAM_SEND_BUFFER_BYTES: "1024", SLOW_CLIENT_SECONDS: "1", STREAM_QUEUE_LIMIT: "5" } });
    try {
      const a = await newUser(slow.url);
      const roomId = await roomOf(slow.url, a.token);
      const res = await new Promise<IncomingMessage>((resolve) =>
        httpRequest(`${slow.url}/room/${roomId}/subscribe`, { headers: { authorization: `Bearer ${a.token}`, accept: "text/event-stream" } }, resolve).end(),
      );
      res.pause();
      const text = "😀".repeat(4000);
      const posted: string[] = [];
      for (let batch = 0; batch < 40 && !res.readableEnded; batch++) {
        posted.push(...(await Promise.all(Array.from({ length: 25 }, () => post(slow.url, a.token, roomId, text)))));
        if ((await (await fetch(`${slow.url}/metrics`)).text()).match(/parley_stream_queue_drops_total [1-9]/)) break;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.resume();
      await new Promise((resolve) => res.once("end", resolve));
      expect(body).toMatch(/event: end\ndata: \{"code":"resource_exhausted","message":"[^"]+"\}\n\n$/);
      const received = [...body.matchAll(/^id: (\d+)\nevent: message\n/gm)].map((m) => m[1]!);
      expect(received.length).toBeLessThan(posted.length);
      // Concurrent posts of one batch get their ids in any order: compare against id order.
      expect(received).toEqual([...posted].sort().slice(0, received.length));
      const last = received.at(-1) ?? "0";
      const rest = await fetch(`${slow.url}/room/${roomId}/messages?after=${last}&limit=1000`, { headers: { authorization: `Bearer ${a.token}` } });
      const missing = ((await rest.json()) as { messageId: string }[]).map((m) => m.messageId).reverse();
      expect([...received, ...missing].sort()).toEqual([...posted].sort());
    } finally {
      await slow.stop();
    }
  }, 60_000);
});

describe("SSE on shutdown", () => {
  it("ends open streams with event: end (unavailable) and exits cleanly", async () => {
    const own = await startServer();
    const a = await newUser(own.url);
    const s = openSource(`${own.url}/me/subscribe`, { authorization: `Bearer ${a.token}` });
    await until(() => s.events.length > 0, "ready");
    expect(await own.stop()).toBe(0);
    await until(() => s.events.some((e) => e.type === "end"), "the end event");
    expect(JSON.parse(s.events.find((e) => e.type === "end")!.data)).toEqual(expect.objectContaining({ code: "unavailable" }));
    s.es.close();
  });
});
