/**
 * The bench's lean gRPC and Connect subscribers against a real server: open() resolves once
 * every stream is ready, a posted marker is counted once per stream, a refused subscription
 * rejects open(), the server ending the streams is a `stream_ended` error, and closing on
 * purpose is none.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTransport } from "../../bench/load/clients/connect-subscriber.js";
import { grpcTransport } from "../../bench/load/clients/grpc-subscriber.js";
import type { Transport } from "../../bench/load/clients/client.js";
import { Receipts } from "../../bench/load/receipts.js";
import { markerText, nowUs } from "../../bench/marker.js";
import type { LoadUser } from "../../bench/load/protocol.js";
import { newUser } from "../support/clients.js";
import { startServer, type TestServer } from "../support/server.js";

const TRANSPORTS: Record<string, Transport> = { grpc: grpcTransport, connect: connectTransport };

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(Object.keys(TRANSPORTS))("lean %s subscribers", (via) => {
  const transport = TRANSPORTS[via]!;
  let server: TestServer;
  let user: LoadUser;
  let post: (text: string) => Promise<unknown>;

  beforeAll(async () => {
    server = await startServer();
    const me = await newUser(server.url);
    const { room } = await me.clients.rooms.createRoom({ name: `lean-${via}` });
    user = { id: me.user.userId, token: me.token, roomId: room!.roomId, roomSize: 1 };
    post = (text) => me.clients.messages.postMessage({ roomId: room!.roomId, text });
  });
  afterAll(() => server?.stop());

  const open = (receipts: Receipts, token = user.token) =>
    transport.open({
      target: { host: "127.0.0.1", port: server.port },
      user: { ...user, token },
      channels: transport.multiplexes ? ["room", "dm"] : ["room"],
      localAddress: "127.0.0.1",
      receipts,
    });

  it("counts each marker once per stream, and closing on purpose is no error", async () => {
    const receipts = new Receipts();
    const connection = await open(receipts);
    expect(receipts.open).toBe(connection.streams);
    await post(markerText(1, 0, nowUs(), 64));
    await post(markerText(1, 1, nowUs(), 64));
    await until(() => receipts.received === 2);
    connection.close();
    await until(() => receipts.open === 0);
    const stats = receipts.stats(1);
    expect(stats.byOrigin).toEqual({ 1: { count: 2, checksum: 1 } });
    expect(stats.errors).toEqual({});
  });

  it("rejects open() when the server refuses the subscription", async () => {
    const receipts = new Receipts();
    await expect(open(receipts, "not-a-token")).rejects.toThrow(/unauthenticated|grpc-status 16/i);
    expect(receipts.open).toBe(0);
  });

  it("counts the server ending the stream as stream_ended", async () => {
    const receipts = new Receipts();
    const connection = await open(receipts);
    await server.stop();
    await until(() => receipts.open === 0);
    expect(receipts.stats(undefined).errors).toEqual({ stream_ended: connection.streams });
  });
});
