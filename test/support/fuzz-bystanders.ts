/**
 * Bystanders of the protocol fuzz: real subscribers of a real room, opened before the fuzz on the
 * same server process — a WebSocket on the room's subscribe path, a room subscription on the
 * multiplexed /ws, an SSE stream and a gRPC (h2c) stream. Whatever the fuzz does to other
 * connections must not close them, and each must still receive a message posted afterwards.
 */
import { WebSocket } from "ws";
import { chatClients, newUser, uniqueName } from "./clients.js";
import type { TestServer } from "./server.js";

interface Subscriber {
  readonly name: string;
  readonly texts: Set<string>;
  closed?: string;
}

export interface Bystanders {
  /** The bystanders that closed or failed so far, with how. */
  problems(): string[];
  /** Posts `text` to the room and waits until every bystander received it; returns who did not (by the deadline) and why. */
  expectMessage(text: string, timeoutMs?: number): Promise<string[]>;
  /** Closes every bystander (the end of the test). */
  close(): void;
}

/** Opens the four bystanders and waits until each is subscribed (its Ready arrived). */
export async function openBystanders(server: TestServer): Promise<Bystanders> {
  const owner = await newUser(server.url, "connect-json", uniqueName("bystander"));
  const { room } = await owner.clients.rooms.createRoom({ name: uniqueName("bystanders") });
  const roomId = room!.roomId;
  const wsUrl = server.url.replace("http", "ws");
  const auth = { authorization: `Bearer ${owner.token}` };
  const subscribers: Subscriber[] = [];
  const waiters = new Set<() => void>();
  let closing = false;
  const subscriber = (name: string): Subscriber => {
    const s: Subscriber = { name, texts: new Set() };
    subscribers.push(s);
    return s;
  };
  const received = (s: Subscriber, text: string) => {
    s.texts.add(text);
    for (const wake of waiters) wake();
  };
  const lost = (s: Subscriber, how: string) => {
    if (closing || s.closed) return;
    s.closed = how;
    for (const wake of waiters) wake();
  };

  const sockets: WebSocket[] = [];
  const openSocket = (name: string, url: string, onOpen?: (ws: WebSocket) => void) =>
    new Promise<void>((resolve, reject) => {
      const s = subscriber(name);
      const ws = new WebSocket(url, { headers: auth });
      sockets.push(ws);
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { type: string; message?: { text: string } };
        if (frame.type === "ready") resolve();
        if (frame.type === "message") received(s, frame.message!.text);
        if (frame.type === "error") lost(s, `error frame ${String(data)}`);
      });
      ws.on("open", () => onOpen?.(ws));
      ws.on("error", (error) => (s.closed ? undefined : reject(error)));
      ws.on("close", (code, reason) => lost(s, `closed ${code} ${String(reason)}`));
    });
  await openSocket("WebSocket /room/{id}/subscribe", `${wsUrl}/room/${roomId}/subscribe`);
  await openSocket("WebSocket /ws", `${wsUrl}/ws`, (ws) => ws.send(JSON.stringify({ type: "subscribe", room_id: roomId })));

  const sse = subscriber("SSE /room/{id}/subscribe");
  const sseAbort = new AbortController();
  const sseResponse = await fetch(`${server.url}/room/${roomId}/subscribe`, { headers: { ...auth, accept: "text/event-stream" }, signal: sseAbort.signal });
  if (sseResponse.status !== 200 || !sseResponse.body) throw new Error(`SSE bystander: status ${sseResponse.status}`);
  await new Promise<void>((resolve) => {
    void (async () => {
      let buffer = "";
      try {
        const decoder = new TextDecoder();
        for await (const bytes of sseResponse.body! as unknown as AsyncIterable<Uint8Array>) {
          const chunk = decoder.decode(bytes, { stream: true });
          buffer += chunk;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (/^event: ready$/m.test(event)) resolve();
            const data = /^data: (.*)$/m.exec(event)?.[1];
            if (/^event: message$/m.test(event) && data) received(sse, (JSON.parse(data) as { text: string }).text);
          }
        }
        lost(sse, "stream ended");
      } catch (error) {
        lost(sse, `stream failed: ${String(error)}`);
      }
      resolve();
    })();
  });

  const grpc = subscriber("gRPC SubscribeRoom (h2c)");
  const grpcAbort = new AbortController();
  await new Promise<void>((resolve) => {
    void (async () => {
      try {
        for await (const response of chatClients(server.url, owner.token, "grpc").messages.subscribeRoom({ roomId }, { signal: grpcAbort.signal })) {
          if (response.frame.case === "ready") resolve();
          if (response.frame.case === "message") received(grpc, response.frame.value.text);
        }
        lost(grpc, "stream ended");
      } catch (error) {
        lost(grpc, `stream failed: ${String(error)}`);
      }
      resolve();
    })();
  });

  return {
    problems: () => subscribers.filter((s) => s.closed).map((s) => `${s.name}: ${s.closed}`),
    async expectMessage(text, timeoutMs = 15_000) {
      const missing = () => subscribers.filter((s) => !s.texts.has(text));
      const done = new Promise<void>((resolve) => {
        const wake = () => {
          if (missing().every((s) => s.closed)) {
            waiters.delete(wake);
            resolve();
          }
        };
        waiters.add(wake);
        wake();
      });
      await owner.clients.messages.postMessage({ roomId, text });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return missing().map((s) => `${s.name} did not receive the message posted after the fuzz${s.closed ? ` (${s.closed})` : ""}`);
    },
    close() {
      closing = true;
      for (const ws of sockets) ws.close();
      sseAbort.abort();
      grpcAbort.abort();
    },
  };
}
