/**
 * A reader that keeps up is never ended as too slow, whatever the send budget: with
 * STREAM_SEND_BUFFER_BYTES below the response's own high-water mark (64 KiB since Node 22) and
 * messages bigger than the budget, every write leaves more than the budget unsent for a moment.
 * The stream waited for a 'drain' that never came (Node emits it only after a write that
 * returned false) and ended a prompt reader as too slow after SLOW_CLIENT_SECONDS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser } from "../support/clients.js";

const MESSAGES = 12;
const TEXT = "x".repeat(3900); // the largest text a message may have is 4,000 characters

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { STREAM_SEND_BUFFER_BYTES: "1024", SLOW_CLIENT_SECONDS: "1", HEARTBEAT_SECONDS: "2" } });
});
afterAll(async () => {
  await server?.stop();
});

describe("a send budget smaller than a message", () => {
  it("keeps an SSE stream whose reader keeps up, past the slow-client time", async () => {
    const user = await newUser(server.url);
    const { room } = await user.clients.rooms.createRoom({ name: `budget${Date.now().toString(36)}` });
    const res = await fetch(`${server.url}/room/${room!.roomId}/subscribe`, { headers: { accept: "text/event-stream", authorization: `Bearer ${user.token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`the stream ended; it sent:\n${text.slice(-500)}`);
        text += new TextDecoder().decode(chunk.value);
      }
    };
    await readUntil(() => text.includes("event: ready"));
    for (let i = 0; i < MESSAGES; i++) await user.clients.messages.postMessage({ roomId: room!.roomId, text: `${i} ${TEXT}` });
    const received = () => text.split("event: message").length - 1;
    await readUntil(() => received() === MESSAGES);
    // Past SLOW_CLIENT_SECONDS, the stream is still open: the next message arrives.
    const heartbeats = () => text.split(": heartbeat").length - 1;
    const before = heartbeats();
    await readUntil(() => heartbeats() > before);
    await user.clients.messages.postMessage({ roomId: room!.roomId, text: "after" });
    await readUntil(() => text.includes('"after"') || text.includes("after"));
    expect(text).not.toMatch(/event: end/);
    await reader.cancel();
  });
});
