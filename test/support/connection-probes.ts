/**
 * Raw connections for the connection-limit tests: TCP sockets that send what a test says (or
 * nothing) and report when and how the server closed them, an SSE stream read by hand, and a
 * WebSocket that records its frames — each counting heartbeats, to show a stream stays alive.
 */
import { request as httpRequest } from "node:http";
import { connect as tcpConnect, type Socket } from "node:net";
import { WebSocket } from "ws";
import type { TestServer } from "./server.js";

/** How a connection ended: after how long (from connect), and what the server had sent. */
export interface Closed {
  readonly ms: number;
  readonly data: string;
}

/** A TCP connection to the server, from `localAddress` when given (any 127.x address works on Linux). */
export interface Probe {
  readonly socket: Socket;
  /** Resolves when the server has closed the connection (or it failed). */
  readonly closed: Promise<Closed>;
  /** What the server has sent so far. */
  data(): string;
  /** Resolves once the server's bytes contain `text`; rejects if the connection closes first. */
  received(text: string): Promise<void>;
}

export function probe(port: number, localAddress?: string): Probe {
  const started = performance.now();
  const socket = tcpConnect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
  let data = "";
  const waiters: { text: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString("latin1");
    for (const w of waiters.filter((w) => data.includes(w.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  socket.on("error", () => undefined);
  const closed = new Promise<Closed>((resolve) =>
    socket.once("close", () => {
      for (const w of waiters.splice(0)) w.reject(new Error(`closed before ${JSON.stringify(w.text)}; got ${JSON.stringify(data)}`));
      resolve({ ms: performance.now() - started, data });
    }),
  );
  return {
    socket,
    closed,
    data: () => data,
    received: (text) =>
      data.includes(text)
        ? Promise.resolve()
        : socket.destroyed
          ? Promise.reject(new Error(`closed before ${JSON.stringify(text)}; got ${JSON.stringify(data)}`))
          : new Promise((resolve, reject) => waiters.push({ text, resolve, reject })),
  };
}

/** Writes `chunk` every `everyMs` until the connection closes (a slow client); returns the stopper. */
export function trickle(p: Probe, chunk: string, everyMs: number): () => void {
  const timer = setInterval(() => {
    if (p.socket.writable) p.socket.write(chunk);
  }, everyMs);
  void p.closed.then(() => clearInterval(timer));
  return () => clearInterval(timer);
}

/** A stream that counts its heartbeats and says whether it is still open. */
export interface LiveStream {
  heartbeats(): number;
  isOpen(): boolean;
  close(): void;
}

/** An SSE stream read by hand: resolves once the response has started (status 200), else rejects with the status and body. */
export function openSse(baseUrl: string, path: string, token: string): Promise<LiveStream> {
  return new Promise((resolve, reject) => {
    let beats = 0;
    let open = true;
    const req = httpRequest(new URL(path, baseUrl), { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject(Object.assign(new Error(`SSE refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
        return;
      }
      res.on("data", (chunk: Buffer) => (beats += chunk.toString().split(": heartbeat").length - 1));
      res.on("close", () => (open = false));
      resolve({ heartbeats: () => beats, isOpen: () => open, close: () => req.destroy() });
    });
    req.on("error", (error) => {
      open = false;
      reject(error);
    });
    req.end();
  });
}

/** A WebSocket that records its JSON frames; resolves once open, rejects with the status of a refused upgrade. */
export interface LiveSocket extends LiveStream {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame that matches (waiting for it). */
  next(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

export function openWs(baseUrl: string, path: string, token: string): Promise<LiveSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const frames: Record<string, unknown>[] = [];
    const waiters: { match: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void }[] = [];
    let open = false;
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once("close", (code, reason) => {
        open = false;
        r({ code, reason: reason.toString() });
      }),
    );
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      frames.push(frame);
      for (const w of waiters.filter((w) => w.match(frame))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
    ws.once("open", () => {
      open = true;
      resolve({
        ws,
        frames,
        closed,
        heartbeats: () => frames.filter((f) => f["type"] === "heartbeat").length,
        isOpen: () => open,
        close: () => ws.close(),
        next: (match) => {
          const found = frames.find(match);
          return found ? Promise.resolve(found) : new Promise((r) => waiters.push({ match, resolve: r }));
        },
      });
    });
  });
}

/** Resolves once the server's output has `count` lines matching every one of `parts`. */
export async function logLines(server: Pick<TestServer, "printed">, parts: readonly string[], count: number, timeoutMs = 10_000): Promise<void> {
  const matching = (output: string) => output.split("\n").filter((line) => parts.every((p) => line.includes(p))).length;
  await server.printed((output) => matching(output) >= count, timeoutMs);
}
