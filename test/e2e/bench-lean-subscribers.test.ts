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

/** Receipts that say when they change (a stream opens or ends, a marker or an error is counted), so tests wait for that. */
class WatchedReceipts extends Receipts {
  readonly #waits = new Set<() => void>();
  constructor() {
    super();
    // `open` is a plain field the clients count up and down: an accessor over it wakes the waits.
    let open = 0;
    Object.defineProperty(this, "open", {
      get: () => open,
      set: (value: number) => {
        open = value;
        this.#changed();
      },
    });
  }
  override bytes(frame: Buffer, start?: number, end?: number): number {
    const found = super.bytes(frame, start, end);
    this.#changed();
    return found;
  }
  override error(kind: string, detail?: unknown): void {
    super.error(kind, detail);
    this.#changed();
  }
  #changed(): void {
    for (const wake of [...this.#waits]) wake();
  }
  /** Resolves once `check()` holds, re-checked on each change; fails after 10 s. */
  until(check: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waits.delete(wake);
        reject(new Error(`timed out waiting for ${what}; ${JSON.stringify(this.stats(1))}`));
      }, 10_000);
      const wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waits.delete(wake);
        resolve();
      };
      this.#waits.add(wake);
      wake();
    });
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
    const receipts = new WatchedReceipts();
    const connection = await open(receipts);
    expect(receipts.open).toBe(connection.streams);
    for (let seq = 0; seq < 3; seq++) await post(markerText(1, seq, nowUs(), 64));
    // The room is one stream, in order: once the last marker is counted, a duplicate of an earlier one would have been too.
    await receipts.until(() => receipts.received >= 3, "three markers");
    connection.close();
    await receipts.until(() => receipts.open === 0, "the streams closed");
    const stats = receipts.stats(1);
    expect(stats.byOrigin).toEqual({ 1: { count: 3, checksum: 0 + 1 + 2 } });
    expect(stats.received).toBe(3);
    expect(stats.errors).toEqual({});
  });

  it("rejects open() when the server refuses the subscription", async () => {
    const receipts = new WatchedReceipts();
    await expect(open(receipts, "not-a-token")).rejects.toThrow(/unauthenticated|grpc-status 16/i);
    expect(receipts.open).toBe(0);
  });

  it("counts the server ending the stream as stream_ended", async () => {
    const receipts = new WatchedReceipts();
    const connection = await open(receipts);
    await server.stop();
    await receipts.until(() => receipts.open === 0, "the streams ended");
    expect(receipts.stats(undefined).errors).toEqual({ stream_ended: connection.streams });
  });
});
