/**
 * The subscribe fast path (src/edges/rpc/fast/subscribe-stream.ts) against real clients of every RPC
 * protocol — grpc-js, connect-node's gRPC, gRPC-Web and Connect (binary and JSON) transports:
 * Ready, then messages in order, then the right end status when the token signs out, the server
 * stops or the reader is too slow; and refusals (validation, unknown room, no token) answered by
 * connect-node exactly as before. The fast path's own counter shows it served the streams.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SubscribeDirectMessagesResponseSchema, SubscribeRoomRequestSchema, SubscribeRoomResponseSchema } from "../../gen/chat/v1/message_pb.js";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";
import { envelope, rawResponse, rawStream } from "../support/raw-rpc.js";
import { STREAM_PROTOCOLS, type Subscriber, subscribe, WIRE_PROTOCOL } from "../support/stream-subscribers.js";

const messagesOf = (s: Subscriber) => s.frames.filter((f) => f.case === "message");
const textsOf = (s: Subscriber) => messagesOf(s).map((f) => f.text);

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

function fastStreams(url: string, protocol: string): Promise<number> {
  return metric(url, new RegExp(`^parley_rpc_fast_streams_total\\{protocol="${protocol}"\\} (\\d+)`, "m"));
}

async function fastStreamsAll(url: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const protocol of ["grpc", "grpc-web", "connect"]) out[protocol] = await fastStreams(url, protocol);
  return out;
}

/** What opening one stream per client adds to the fast-path counter, by wire protocol. */
function expectedFastStreams(before: Record<string, number>): Record<string, number> {
  const out = { ...before };
  for (const p of STREAM_PROTOCOLS) out[WIRE_PROTOCOL[p]]! += 1;
  return out;
}

async function roomWithUser(url: string) {
  const user = await newUser(url);
  const { room } = await user.clients.rooms.createRoom({ name: uniqueName("fast") });
  return { user, roomId: room!.roomId };
}

describe("subscribe fast path", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ oneProcess: "counts encodings per process: the node's sum over N workers is 1 to N per format" });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("serves every protocol: Ready, then room posts and DMs in order, through the fast path", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const b = await newUser(server.url);
    const before = await fastStreamsAll(server.url);
    const rooms = STREAM_PROTOCOLS.map((p) => subscribe(p, server.url, a.token, { roomId }));
    const dms = STREAM_PROTOCOLS.map((p) => subscribe(p, server.url, a.token, { direct: true }));
    await Promise.all([...rooms, ...dms].map((s) => s.until((f) => f.length > 0)));
    for (const s of [...rooms, ...dms]) expect(s.frames[0]?.case, s.protocol).toBe("ready");
    expect(await fastStreamsAll(server.url)).toEqual(expectedFastStreams(expectedFastStreams(before)));

    const encodings = await metric(server.url, /^parley_rpc_message_encodings (\d+)/m);
    for (let i = 0; i < 10; i++) await b.clients.messages.postMessage({ roomId, text: `r${i}` });
    for (let i = 0; i < 3; i++) await b.clients.messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: a.user.userId }, text: `d${i}` });
    await Promise.all(rooms.map((s) => s.until(() => messagesOf(s).length >= 10)));
    await Promise.all(dms.map((s) => s.until(() => messagesOf(s).length >= 3)));
    for (const s of rooms) expect(textsOf(s), s.protocol).toEqual([...Array(10).keys()].map((i) => `r${i}`));
    for (const s of dms) expect(textsOf(s), s.protocol).toEqual([...Array(3).keys()].map((i) => `d${i}`));
    // 13 messages to 5 streams each: encoded once per format (binary, JSON), not once per stream.
    expect((await metric(server.url, /^parley_rpc_message_encodings (\d+)/m)) - encodings).toBe(13 * 2);
    expect(await metric(server.url, /^parley_open_streams\{transport="rpc"\} (\d+)/m)).toBeGreaterThanOrEqual(10);
    for (const s of [...rooms, ...dms]) s.cancel();
  });

  it("replays after `since`, every protocol receiving the same ids", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const first = await a.clients.messages.postMessage({ roomId, text: "m0" });
    for (let i = 1; i <= 5; i++) await a.clients.messages.postMessage({ roomId, text: `m${i}` });
    const subs = STREAM_PROTOCOLS.map((p) => subscribe(p, server.url, a.token, { roomId, since: first.message!.messageId }));
    await Promise.all(subs.map((s) => s.until(() => messagesOf(s).length >= 5)));
    const ids = messagesOf(subs[0]!).map((f) => f.id);
    for (const s of subs) {
      expect(s.frames[0]?.case).toBe("ready");
      expect(textsOf(s), s.protocol).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      expect(messagesOf(s).map((f) => f.id), s.protocol).toEqual(ids);
      s.cancel();
    }
  });

  it("ends every protocol's stream with UNAUTHENTICATED when its token signs out", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const subs = STREAM_PROTOCOLS.flatMap((p) => [subscribe(p, server.url, a.token, { roomId }), subscribe(p, server.url, a.token, { direct: true })]);
    await Promise.all(subs.map((s) => s.until((f) => f.length > 0)));
    await a.clients.messages.postMessage({ roomId, text: "before sign-out" });
    await Promise.all(subs.filter((_, i) => i % 2 === 0).map((s) => s.until(() => messagesOf(s).length >= 1)));
    await a.clients.auth.signOut({});
    for (const s of subs) {
      expect(await s.ended, s.protocol).toEqual({ code: Code.Unauthenticated, message: "signed out: this token was revoked" });
      expect(s.frames[0]?.case).toBe("ready");
    }
  });

  it("leaves refusals to connect-node: the same codes and messages as before, nothing served fast", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const before = await fastStreamsAll(server.url);
    const cases = [
      { token: a.token, target: { roomId: "123456789012" }, code: Code.NotFound, message: "room 123456789012 does not exist" },
      { token: a.token, target: { roomId: "not-a-number" }, code: Code.InvalidArgument, message: /room_id/ },
      { token: a.token, target: { roomId, since: "abc" }, code: Code.InvalidArgument, message: /since/ },
      { token: undefined, target: { roomId }, code: Code.Unauthenticated, message: "missing Authorization header: send Bearer <token>" },
      { token: "v4.public.forged", target: { direct: true as const }, code: Code.Unauthenticated, message: /token/ },
    ];
    for (const c of cases) {
      for (const protocol of STREAM_PROTOCOLS) {
        const s = subscribe(protocol, server.url, c.token, c.target);
        const end = await s.ended;
        expect(end.code, `${protocol} ${JSON.stringify(c.target)}`).toBe(c.code);
        expect(end.message, protocol).toMatch(c.message);
        expect(s.frames).toEqual([]);
      }
    }
    expect(await fastStreamsAll(server.url)).toEqual(before);
  });

  it("sends the same bytes connect-node sends (a request with a deadline still goes to connect-node)", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const first = await a.clients.messages.postMessage({ roomId, text: "first" });
    for (let i = 0; i < 3; i++) await a.clients.messages.postMessage({ roomId, text: `é ${i} 😀`, clientMessageId: `c${i}` });
    const request = create(SubscribeRoomRequestSchema, { roomId, since: first.message!.messageId });
    const bodies = {
      "application/connect+proto": envelope(toBinary(SubscribeRoomRequestSchema, request)),
      "application/connect+json": envelope(new TextEncoder().encode(JSON.stringify({ roomId, since: request.since }))),
      "application/grpc-web+proto": envelope(toBinary(SubscribeRoomRequestSchema, request)),
    };
    for (const [contentType, body] of Object.entries(bodies)) {
      const deadline: Record<string, string> = contentType.startsWith("application/grpc-web") ? { "grpc-timeout": "60S" } : { "connect-timeout-ms": "60000" };
      const before = await fastStreams(server.url, contentType.includes("grpc-web") ? "grpc-web" : "connect");
      const fast = await rawStream(server.url, { "content-type": contentType, authorization: `Bearer ${a.token}` }, body, 4);
      const slow = await rawStream(server.url, { "content-type": contentType, authorization: `Bearer ${a.token}`, ...deadline }, body, 4);
      expect(await fastStreams(server.url, contentType.includes("grpc-web") ? "grpc-web" : "connect")).toBe(before + 1);
      expect(fast.status).toBe(200);
      expect(fast.contentType).toBe(slow.contentType);
      expect(fast.headers, contentType).toEqual(slow.headers);
      expect(fast.envelopes.map((e) => e.toString("hex")), contentType).toEqual(slow.envelopes.map((e) => e.toString("hex")));
    }
  });

  it("sends a direct-message stream's read frame as connect-node does, byte for byte", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const b = await newUser(server.url);
    // SubscribeDirectMessagesRequest{} is the empty message: an envelope of no bytes, or "{}" in JSON.
    const bodies = {
      "application/connect+proto": envelope(new Uint8Array()),
      "application/connect+json": envelope(new TextEncoder().encode("{}")),
      "application/grpc-web+proto": envelope(new Uint8Array()),
    };
    for (const [contentType, body] of Object.entries(bodies)) {
      const deadline: Record<string, string> = contentType.startsWith("application/grpc-web") ? { "grpc-timeout": "60S" } : { "connect-timeout-ms": "60000" };
      const headers = { "content-type": contentType, authorization: `Bearer ${a.token}` };
      let ready!: () => void;
      let readies = 0;
      const bothReady = new Promise<void>((resolve) => (ready = resolve));
      const options = { procedure: "SubscribeDirectMessages" as const, onEnvelope: (n: number) => void (n === 1 && ++readies === 2 && ready()) };
      const fast = rawStream(server.url, headers, body, 2, options);
      const slow = rawStream(server.url, { ...headers, ...deadline }, body, 2, options);
      await bothReady;
      // A new message each round, so that every mark moves the marker.
      const posted = await b.clients.messages.postMessage({ roomId, text: contentType });
      await a.clients.messages.markRoomRead({ roomId, messageId: posted.message!.messageId });
      const [f, sl] = await Promise.all([fast, slow]);
      expect(f.envelopes.map((e) => e.toString("hex")), contentType).toEqual(sl.envelopes.map((e) => e.toString("hex")));
      const read = f.envelopes[1]!.subarray(5);
      const decoded = contentType.endsWith("json")
        ? JSON.parse(read.toString())
        : fromBinary(SubscribeDirectMessagesResponseSchema, read).frame;
      expect(decoded, contentType).toMatchObject(
        contentType.endsWith("json")
          ? { read: { roomId, lastReadMessageId: posted.message!.messageId } }
          : { case: "read", value: { channel: { case: "roomId", value: roomId }, lastReadMessageId: posted.message!.messageId, unreadCount: 0 } },
      );
    }
  });

  it("sends a room stream's typing frame as connect-node does, byte for byte", async () => {
    const watcher = await newUser(server.url);
    const contentTypes = ["application/connect+proto", "application/connect+json", "application/grpc-web+proto"];
    for (const contentType of contentTypes) {
      // A room and a typist per round: a second start of the same typist within 2 s is throttled.
      const { user: typist, roomId } = await roomWithUser(server.url);
      const request = create(SubscribeRoomRequestSchema, { roomId });
      const body = contentType.endsWith("json") ? envelope(new TextEncoder().encode(JSON.stringify({ roomId }))) : envelope(toBinary(SubscribeRoomRequestSchema, request));
      const deadline: Record<string, string> = contentType.startsWith("application/grpc-web") ? { "grpc-timeout": "60S" } : { "connect-timeout-ms": "60000" };
      const headers = { "content-type": contentType, authorization: `Bearer ${watcher.token}` };
      let ready!: () => void;
      let readies = 0;
      const bothReady = new Promise<void>((resolve) => (ready = resolve));
      const options = { onEnvelope: (n: number) => void (n === 1 && ++readies === 2 && ready()) };
      const fast = rawStream(server.url, headers, body, 2, options);
      const slow = rawStream(server.url, { ...headers, ...deadline }, body, 2, options);
      await bothReady;
      await typist.clients.messages.setTyping({ roomId });
      const [f, sl] = await Promise.all([fast, slow]);
      expect(f.envelopes.map((e) => e.toString("hex")), contentType).toEqual(sl.envelopes.map((e) => e.toString("hex")));
      const typing = f.envelopes[1]!.subarray(5);
      const user = { userId: typist.user.userId, username: typist.user.username };
      if (contentType.endsWith("json")) expect(JSON.parse(typing.toString()), contentType).toMatchObject({ typing: { roomId, user } });
      else expect(fromBinary(SubscribeRoomResponseSchema, typing).frame, contentType).toMatchObject({ case: "typing", value: { channel: { case: "roomId", value: roomId }, user, stopped: false } });
    }
  });

  it("sends a room stream's presence frames (the snapshot, then a join) as connect-node does, byte for byte", async () => {
    const contentTypes = ["application/connect+proto", "application/connect+json", "application/grpc-web+proto"];
    for (const contentType of contentTypes) {
      // The watcher is present already (a stream of theirs is open), so both streams' snapshots are the same.
      const { user: watcher, roomId } = await roomWithUser(server.url);
      const held = new AbortController();
      void (async () => {
        try {
          for await (const _ of watcher.clients.messages.subscribeRoom({ roomId }, { signal: held.signal }));
        } catch {
          // Aborted below.
        }
      })();
      await expect.poll(async () => (await watcher.clients.rooms.getRoomPresence({ roomId })).count, { timeout: 10_000 }).toBe(1);
      const request = create(SubscribeRoomRequestSchema, { roomId, presence: true });
      const body = contentType.endsWith("json")
        ? envelope(new TextEncoder().encode(JSON.stringify({ roomId, presence: true })))
        : envelope(toBinary(SubscribeRoomRequestSchema, request));
      const deadline: Record<string, string> = contentType.startsWith("application/grpc-web") ? { "grpc-timeout": "60S" } : { "connect-timeout-ms": "60000" };
      const headers = { "content-type": contentType, authorization: `Bearer ${watcher.token}` };
      let ready!: () => void;
      let snapshots = 0;
      const bothReady = new Promise<void>((resolve) => (ready = resolve));
      const options = { onEnvelope: (n: number) => void (n === 2 && ++snapshots === 2 && ready()) };
      const fast = rawStream(server.url, headers, body, 3, options);
      const slow = rawStream(server.url, { ...headers, ...deadline }, body, 3, options);
      await bothReady;
      const visitor = await newUser(server.url);
      const visiting = new AbortController();
      const visit = visitor.clients.messages.subscribeRoom({ roomId }, { signal: visiting.signal })[Symbol.asyncIterator]();
      await visit.next();
      const [f, sl] = await Promise.all([fast, slow]);
      visiting.abort();
      held.abort();
      expect(f.envelopes.map((e) => e.toString("hex")), contentType).toEqual(sl.envelopes.map((e) => e.toString("hex")));
      const [snapshot, joined] = [f.envelopes[1]!.subarray(5), f.envelopes[2]!.subarray(5)];
      const [me, them] = [{ userId: watcher.user.userId, username: watcher.user.username }, { userId: visitor.user.userId, username: visitor.user.username }];
      if (contentType.endsWith("json")) {
        expect(JSON.parse(snapshot.toString()), contentType).toMatchObject({ presence: { roomId, count: 1, joined: [me], snapshot: true } });
        expect(JSON.parse(joined.toString()), contentType).toMatchObject({ presence: { roomId, count: 2, joined: [them] } });
      } else {
        expect(fromBinary(SubscribeRoomResponseSchema, snapshot).frame, contentType).toMatchObject({ case: "presence", value: { roomId, count: 1, joined: [me], snapshot: true } });
        expect(fromBinary(SubscribeRoomResponseSchema, joined).frame, contentType).toMatchObject({ case: "presence", value: { roomId, count: 2, joined: [them], snapshot: false } });
      }
    }
  });
});

describe("subscribe fast path with malformed bodies", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { MAX_BODY_BYTES: "4096" } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers each exactly as connect-node does (the same request with a deadline goes straight to connect-node)", async () => {
    const { user: a, roomId } = await roomWithUser(server.url);
    const message = toBinary(SubscribeRoomRequestSchema, create(SubscribeRoomRequestSchema, { roomId }));
    const bodies: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      "short header": Buffer.from([0, 0]),
      truncated: envelope(message).subarray(0, 8),
      "two envelopes": Buffer.concat([envelope(message), envelope(message)]),
      "compressed flag": Buffer.concat([Buffer.from([1]), envelope(message).subarray(1)]),
      "not protobuf": envelope(Buffer.from([0xff, 0xff, 0xff])),
      "over the size limit": envelope(Buffer.alloc(5000, 0x20)),
    };
    const before = await fastStreamsAll(server.url);
    for (const [contentType, deadline] of [
      ["application/connect+proto", { "connect-timeout-ms": "60000" }],
      ["application/grpc-web+proto", { "grpc-timeout": "60S" }],
    ] as const) {
      for (const [name, body] of Object.entries(bodies)) {
        const headers = { "content-type": contentType, authorization: `Bearer ${a.token}` };
        const fast = await rawResponse(server.url, headers, body);
        const slow = await rawResponse(server.url, { ...headers, ...deadline }, body);
        expect(fast, `${contentType} ${name}`).toEqual(slow);
        expect(fast.status).toBe(200);
        expect(fast.body, `${contentType} ${name}`).toMatch(/"error":\{"code":"[a-z_]+"|grpc-status: [1-9]/);
      }
    }
    expect(await fastStreamsAll(server.url)).toEqual(before);
  });
});

describe("subscribe fast path on shutdown", () => {
  it("ends every protocol's stream after its messages with UNAVAILABLE (retryable: reconnect elsewhere)", async () => {
    const server = await startServer();
    try {
      const { user: a, roomId } = await roomWithUser(server.url);
      const subs = STREAM_PROTOCOLS.map((p) => subscribe(p, server.url, a.token, { roomId }));
      await Promise.all(subs.map((s) => s.until((f) => f.length > 0)));
      for (let i = 0; i < 5; i++) await a.clients.messages.postMessage({ roomId, text: `s${i}` });
      await Promise.all(subs.map((s) => s.until(() => messagesOf(s).length >= 5)));
      expect(await server.stop()).toBe(0);
      for (const s of subs) {
        expect(await s.ended, s.protocol).toEqual({ code: Code.Unavailable, message: "server is stopping: reconnect" });
        expect(s.frames[0]?.case).toBe("ready");
        expect(textsOf(s), s.protocol).toEqual(["s0", "s1", "s2", "s3", "s4"]);
      }
    } finally {
      await server.stop();
    }
  });
});

describe("subscribe fast path with a slow reader", () => {
  it("ends each protocol's stream with RESOURCE_EXHAUSTED after the messages it could send, in id order", async () => {
    const slow = await startServer({ raisedLimits: "one user posts hundreds of 16 KB messages as fast as the node takes them, to overflow a slow reader; the per-user limit would pace the poster instead", env: { STREAM_SEND_BUFFER_BYTES: "1024", SLOW_CLIENT_SECONDS: "1", STREAM_QUEUE_LIMIT: "5" } });
    try {
      const { user: a, roomId } = await roomWithUser(slow.url);
      const subs = STREAM_PROTOCOLS.map((p) => subscribe(p, slow.url, a.token, { roomId }));
      await Promise.all(subs.map((s) => s.until((f) => f.length > 0)));
      expect(await metric(slow.url, /^parley_open_streams\{transport="rpc"\} (\d+)/m)).toBe(subs.length);
      for (const s of subs) s.pause();
      const text = "😀".repeat(4000);
      const posted: string[] = [];
      for (let batch = 0; batch < 60; batch++) {
        const ids = await Promise.all(Array.from({ length: 25 }, () => a.clients.messages.postMessage({ roomId, text })));
        posted.push(...ids.map((r) => r.message!.messageId));
        if ((await metric(slow.url, /^parley_open_streams\{transport="rpc"\} (\d+)/m)) === 0) break;
      }
      expect(await metric(slow.url, /^parley_open_streams\{transport="rpc"\} (\d+)/m)).toBe(0);
      for (const s of subs) s.resume();
      const inIdOrder = [...posted].sort();
      for (const s of subs) {
        const end = await s.ended;
        expect(end.code, s.protocol).toBe(Code.ResourceExhausted);
        expect(s.frames[0]?.case).toBe("ready");
        const received = messagesOf(s).map((f) => f.id);
        expect(received.length, s.protocol).toBeLessThan(posted.length);
        expect(received, s.protocol).toEqual(inIdOrder.slice(0, received.length));
      }
    } finally {
      await slow.stop();
    }
  }, 90_000);
});
