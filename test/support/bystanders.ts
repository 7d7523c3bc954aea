/**
 * Bystanders: other users' streams on the same server process — a /ws socket (the `ws` client)
 * and an SSE stream — subscribed to one room, to show that an attack on one connection touched
 * nothing else. `check()` posts a message and waits until both received it (events, not timers).
 */
import { request as httpRequest, type ClientRequest } from "node:http";
import { WebSocket } from "ws";
import { newUser, uniqueName } from "./clients.js";

export interface Bystanders {
  readonly roomId: string;
  /** Posts a fresh message to the room; resolves when both streams delivered it, rejects if either closed. */
  check(): Promise<void>;
  close(): void;
}

/** A growing record of what a stream received, with waiters woken on every change. */
class Feed {
  text = "";
  closed: string | undefined;
  readonly #waiters = new Set<() => void>();

  push(text: string): void {
    this.text += text;
    this.#wake();
  }

  end(why: string): void {
    this.closed ??= why;
    this.#wake();
  }

  until(what: string, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.text.includes(what)) {
          this.#waiters.delete(check);
          resolve();
        } else if (this.closed !== undefined) {
          this.#waiters.delete(check);
          reject(new Error(`${name} closed (${this.closed}) before receiving ${what}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

let counter = 0;

/** Signs up two bystanders and a poster, creates a room, and subscribes one by /ws and one by SSE. */
export async function openBystanders(baseUrl: string): Promise<Bystanders> {
  const [wsUser, sseUser, poster] = await Promise.all([newUser(baseUrl), newUser(baseUrl), newUser(baseUrl)]);
  const { room } = await poster.clients.rooms.createRoom({ name: uniqueName("bystanders") });
  const roomId = room!.roomId;

  const wsFeed = new Feed();
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${wsUser.token}` } });
  ws.on("message", (data) => wsFeed.push(`${data.toString()}\n`));
  ws.on("close", (code) => wsFeed.end(`close ${code}`));
  ws.on("error", (error) => wsFeed.end(error.message));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "subscribe", room_id: roomId }));
  await wsFeed.until('"type":"ready"', "the /ws bystander");

  const sseFeed = new Feed();
  const url = new URL(`/room/${roomId}/subscribe`, baseUrl);
  const sse: ClientRequest = httpRequest(url, { headers: { authorization: `Bearer ${sseUser.token}`, accept: "text/event-stream" } }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => sseFeed.push(chunk));
    res.on("close", () => sseFeed.end(`response ended (${res.statusCode})`));
  });
  sse.on("error", (error) => sseFeed.end(error.message));
  sse.end();
  await sseFeed.until("event: ready", "the SSE bystander");

  return {
    roomId,
    async check() {
      const text = `bystander check ${counter++} ${Date.now()}`;
      await poster.clients.messages.postMessage({ roomId, text });
      await Promise.all([wsFeed.until(text, "the /ws bystander"), sseFeed.until(text, "the SSE bystander")]);
    },
    close() {
      ws.close();
      sse.destroy();
    },
  };
}
