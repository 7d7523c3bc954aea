/**
 * One post over REST reaches, at the same time, a gRPC stream (@grpc/grpc-js), a Connect
 * stream, an SSE client (EventSource) and a WebSocket client — once each, in order — and is
 * encoded for the browser transports once per message, not once per subscriber.
 */
import { EventSource } from "eventsource";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, serverStream } from "../support/grpc-js-client.js";

const COUNT = 20;

/** Every subscriber calls arrived() when it records something: waits re-check then, no polling. */
const waits = new Set<() => void>();
const arrived = (): void => {
  for (const wake of [...waits]) wake();
};

/** Resolves once `check()` holds, re-checked on each arrival; fails after `timeoutMs`. */
function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waits.delete(wake);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const wake = () => {
      if (!check()) return;
      clearTimeout(timer);
      waits.delete(wake);
      resolve();
    };
    waits.add(wake);
    wake();
  });
}

async function encodings(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^parley_edge_message_encodings (\d+)$/m.exec(text)?.[1]);
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ oneProcess: "counts encodings per process: the node's sum over N workers is 1 to N per message" });
});
afterAll(async () => {
  await server?.stop();
});

describe("fan-out to every transport", () => {
  it("delivers each REST post once, in order, to gRPC, Connect, SSE and WebSocket subscribers", async () => {
    const poster = await newUser(server.url);
    const reader = await newUser(server.url);
    const { room } = await poster.clients.rooms.createRoom({ name: uniqueName("fanout") });
    const roomId = room!.roomId;
    const got: Record<"grpc" | "connect" | "sse" | "ws", string[]> = { grpc: [], connect: [], sse: [], ws: [] };
    const ready: Record<keyof typeof got, boolean> = { grpc: false, connect: false, sse: false, ws: false };

    const grpc = grpcJsClient(MessageService, `127.0.0.1:${server.port}`);
    const grpcStream = serverStream<{ frame: { case: string; value: { messageId?: string } } }>(grpc, "subscribeRoom", { roomId }, bearer(reader.token));
    grpcStream.on("data", (res) => {
      if (res.frame.case === "ready") ready.grpc = true;
      if (res.frame.case === "message") got.grpc.push(res.frame.value.messageId!);
      arrived();
    });
    grpcStream.on("error", () => undefined);

    const connectAbort = new AbortController();
    void (async () => {
      for await (const res of reader.clients.messages.subscribeRoom({ roomId }, { signal: connectAbort.signal })) {
        if (res.frame.case === "ready") ready.connect = true;
        if (res.frame.case === "message") got.connect.push(res.frame.value.messageId);
        arrived();
      }
    })().catch(() => undefined);

    // Several browser subscribers per transport: the encoding must still happen once per message.
    const sources: EventSource[] = [];
    const sockets: WebSocket[] = [];
    let browserReady = 0;
    for (let i = 0; i < 3; i++) {
      const es = new EventSource(`${server.url}/room/${roomId}/subscribe`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${reader.token}` } }),
      });
      es.addEventListener("ready", () => {
        browserReady++;
        if (i === 0) ready.sse = true;
        arrived();
      });
      if (i === 0) {
        es.addEventListener("message", (e) => {
          got.sse.push((e as MessageEvent).lastEventId);
          arrived();
        });
      }
      sources.push(es);
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/room/${roomId}/subscribe`, { headers: { authorization: `Bearer ${reader.token}` } });
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; message?: { messageId: string } };
        if (frame.type === "ready") browserReady++;
        if (i === 0 && frame.type === "ready") ready.ws = true;
        if (i === 0 && frame.type === "message") got.ws.push(frame.message!.messageId);
        arrived();
      });
      sockets.push(ws);
    }
    await until(() => Object.values(ready).every(Boolean), "every subscriber ready");
    // Every browser subscriber (3 SSE, 3 WebSocket) is live once it has its ready frame.
    await until(() => browserReady === 6, "every browser subscriber ready");

    const before = await encodings(server.url);
    const posted: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const res = await fetch(`${server.url}/room/${roomId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${poster.token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: `fan ${i}` }),
      });
      expect(res.status).toBe(201);
      posted.push(((await res.json()) as { messageId: string }).messageId);
    }
    // A last message after them: in-order streams that deliver it have delivered any duplicate of the others before it.
    const last = await fetch(`${server.url}/room/${roomId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${poster.token}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "fan last" }),
    });
    expect(last.status).toBe(201);
    posted.push(((await last.json()) as { messageId: string }).messageId);
    await until(() => Object.values(got).every((ids) => ids.includes(posted.at(-1)!)), "every transport to get every message");
    for (const [transport, ids] of Object.entries(got)) expect(ids, transport).toEqual(posted);
    expect(await encodings(server.url)).toBe(before + COUNT + 1);

    grpcStream.cancel();
    grpc.close();
    connectAbort.abort();
    for (const es of sources) es.close();
    for (const ws of sockets) ws.close();
  });
});
