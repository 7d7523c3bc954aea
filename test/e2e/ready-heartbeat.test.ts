/**
 * Every stream's first frame, Ready, says how often the stream will send a frame at least
 * (HEARTBEAT_SECONDS): a client tells a dead connection by two of these without a frame
 * (client/ does). Over gRPC it is a google.protobuf.Duration; over SSE and WebSocket the same
 * value as protobuf JSON writes it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser } from "../support/clients.js";
import { openWs } from "../support/connection-probes.js";

let server: TestServer;
let user: Awaited<ReturnType<typeof newUser>>;
beforeAll(async () => {
  server = await startServer({ env: { HEARTBEAT_SECONDS: "7" } });
  user = await newUser(server.url, "grpc");
});
afterAll(async () => {
  await server?.stop();
});

describe("Ready announces the heartbeat interval", () => {
  it("over gRPC", async () => {
    const stream = user.clients.messages.subscribeDirectMessages({});
    const first = await stream[Symbol.asyncIterator]().next();
    expect(first.value?.frame.case).toBe("ready");
    expect(first.value?.frame.value).toMatchObject({ heartbeatInterval: { seconds: 7n, nanos: 0 } });
  });

  it("over SSE", async () => {
    const res = await fetch(`${server.url}/me/subscribe`, { headers: { accept: "text/event-stream", authorization: `Bearer ${user.token}` } });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = /event: ready\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data!)).toEqual({ position: expect.any(String), heartbeatInterval: "7s" });
  });

  it("over WebSocket", async () => {
    const socket = await openWs(server.url, "/me/subscribe", user.token);
    const ready = await socket.next((f) => f["type"] === "ready");
    socket.close();
    expect(ready).toEqual({ type: "ready", dms: true, position: expect.any(String), heartbeat_interval: "7s" });
  });
});
