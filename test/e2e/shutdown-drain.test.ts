/**
 * A node told to stop (a real SIGTERM to the real server process, one worker and two) speaks
 * gRPC's lifecycle: grpc.health.v1.Health serves the overall status and each chat service by
 * name, Watch reports NOT_SERVING when the drain starts; open subscribe streams end with
 * UNAVAILABLE (retryable: reconnect elsewhere) — through the fast path and through connect-node
 * alike; during the grace period new streams are refused with UNAVAILABLE while unary calls are
 * answered; a second SIGTERM ends the grace period at once, and Watch streams end with
 * UNAVAILABLE too. Clients: @grpc/grpc-js and the grpc-health-check package's service definition.
 */
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { MessageService } from "../../gen/chat/v1/message_pb.js";
import { RoomService } from "../../gen/chat/v1/room_pb.js";
import { newUser, uniqueName } from "../support/clients.js";
import { bearer, grpcJsClient, serverStream, unary } from "../support/grpc-js-client.js";
import { startServer, type TestServer } from "../support/server.js";

/** Each client on its own HTTP/2 connection: with two workers, connections alternate between them. */
const OWN_CONNECTION: grpc.ChannelOptions = { "grpc.use_local_subchannel_pool": 1 };
/** Compressed requests: the subscribe fast path hands them to connect-node's handlers. */
const GZIP: grpc.ChannelOptions = { ...OWN_CONNECTION, "grpc.default_compression_algorithm": 2 };
const CHAT_SERVICES = ["chat.v1.AuthService", "chat.v1.RoomService", "chat.v1.MessageService"];
const STOPPING = "server is stopping: reconnect";

/**
 * A final status, its message decoded: connect-es percent-encodes grpc-message with
 * encodeURIComponent (":" → "%3A", valid per the gRPC spec) and grpc-js decodes it with decodeURI,
 * which leaves "%3A" as is.
 */
function ending(status: grpc.StatusObject): { code: number; details: string } {
  return { code: status.code, details: decodeURIComponent(status.details) };
}

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): HealthClient {
  const Ctor = grpc.makeGenericClientConstructor(healthService, "Health");
  return new Ctor(address, grpc.credentials.createInsecure(), OWN_CONNECTION) as unknown as HealthClient;
}

/** The status Health/Check answers for `service`; rejects with the call's error. */
function check(address: string, service: string): Promise<string> {
  const client = healthClient(address);
  return new Promise<string>((resolve, reject) => client.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status)))).finally(() => client.close());
}

/** A server stream's messages as they come, and its final status. */
interface Recorded<T> {
  readonly items: T[];
  /** Resolves once some item satisfies `test`. */
  until(test: (item: T) => boolean): Promise<void>;
  readonly status: Promise<grpc.StatusObject>;
}

function record<T>(call: grpc.ClientReadableStream<T>): Recorded<T> {
  const items: T[] = [];
  const waiting: Array<{ test: (item: T) => boolean; resolve: () => void }> = [];
  call.on("data", (item: T) => {
    items.push(item);
    for (const w of [...waiting]) if (w.test(item)) (waiting.splice(waiting.indexOf(w), 1), w.resolve());
  });
  // A non-OK status also comes as an 'error' event, which must be listened to.
  call.on("error", () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  return {
    items,
    status,
    until: (test) =>
      items.some(test)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            let settled = false;
            waiting.push({
              test,
              resolve: () => {
                settled = true;
                resolve();
              },
            });
            void status.then((s) => {
              if (settled) return;
              // Frames hold bigints (Ready's heartbeat interval is a Duration).
              const got = JSON.stringify(items, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
              reject(new Error(`stream ended (${s.code} ${s.details}) before the awaited item; got ${got}`));
            });
          }),
  };
}

function watch(address: string, service: string): Recorded<{ status: string }> {
  return record(healthClient(address).watch({ service }));
}

type Frame = { frame: { case: string | undefined } };

function subscribe(address: string, token: string, roomId: string, options: grpc.ChannelOptions = OWN_CONNECTION): Recorded<Frame> {
  return record(serverStream<Frame>(grpcJsClient(MessageService, address, options), "subscribeRoom", { roomId }, bearer(token)));
}

/** The pid of each stream-ended line with `code`, and the procedures connect-node logged with it. */
function endings(output: string, code: string): { streamPids: number[]; rpcProcedures: string[] } {
  const streamPids: number[] = [];
  const rpcProcedures: string[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg: string; pid: number; code?: string; procedure?: string };
    if (entry.code !== code) continue;
    if (entry.msg === "stream ended") streamPids.push(entry.pid);
    if (entry.msg === "rpc" && entry.procedure) rpcProcedures.push(entry.procedure);
  }
  return { streamPids, rpcProcedures };
}

describe.each([1, 2])("a node of %i worker(s) on SIGTERM", (workers) => {
  it("drains: Health says NOT_SERVING, streams end UNAVAILABLE, new streams are refused, unary calls still work", async () => {
    // Every check below runs, loops included (a loop over nothing would check nothing).
    expect.assertions(workers > 1 ? 30 : 29);
    // A grace period far longer than the test: the second SIGTERM ends it.
    const server = await startServer({ workers, env: { SHUTDOWN_GRACE_SECONDS: "300" } });
    try {
      const address = `127.0.0.1:${server.port}`;
      for (const service of ["", ...CHAT_SERVICES]) expect(await check(address, service), service).toBe("SERVING");
      await expect(check(address, "chat.v1.NoSuchService")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });

      const { token } = await newUser(server.url, "grpc");
      const { room } = await unary<{ room: { roomId: string } }>(grpcJsClient(RoomService, address), "createRoom", { name: uniqueName("drain") }, bearer(token));
      const roomId = room.roomId;
      const watches = [watch(address, ""), watch(address, "chat.v1.MessageService")];
      const streams = [...Array.from({ length: 4 }, () => subscribe(address, token, roomId)), subscribe(address, token, roomId, GZIP), subscribe(address, token, roomId, GZIP)];
      await Promise.all(watches.map((w) => w.until((r) => r.status === "SERVING")));
      await Promise.all(streams.map((s) => s.until((f) => f.frame.case === "ready")));

      server.terminate();
      await Promise.all(watches.map((w) => w.until((r) => r.status === "NOT_SERVING")));
      for (const ended of await Promise.all(streams.map((s) => s.status))) {
        expect(ending(ended)).toEqual({ code: grpc.status.UNAVAILABLE, details: STOPPING });
      }

      // The grace period: NOT_SERVING, new streams refused, unary calls answered.
      for (const service of ["", ...CHAT_SERVICES]) expect(await check(address, service), service).toBe("NOT_SERVING");
      for (const options of [OWN_CONNECTION, GZIP]) {
        const late = subscribe(address, token, roomId, options);
        expect(ending(await late.status)).toEqual({ code: grpc.status.UNAVAILABLE, details: STOPPING });
        expect(late.items).toEqual([]);
      }
      const listed = await unary<{ rooms: Array<{ roomId: string }> }>(grpcJsClient(RoomService, address, OWN_CONNECTION), "listRooms", {}, bearer(token));
      expect(listed.rooms.map((r) => r.roomId)).toContain(roomId);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      expect(watches.map((w) => w.items.map((r) => r.status))).toEqual([
        ["SERVING", "NOT_SERVING"],
        ["SERVING", "NOT_SERVING"],
      ]);

      // A second SIGTERM: stop now. Watches end with UNAVAILABLE too.
      server.terminate();
      expect(await server.exited).toBe(0);
      for (const ended of await Promise.all(watches.map((w) => w.status))) {
        expect(ending(ended)).toEqual({ code: grpc.status.UNAVAILABLE, details: STOPPING });
      }
      const output = server.output();
      const { streamPids, rpcProcedures } = endings(output, "unavailable");
      // The four fast-path streams ended in the workers that served them (which ones is the
      // primary's choice); connect-node's handler ended the two compressed ones and refused the
      // two late ones.
      expect(streamPids).toHaveLength(4);
      expect(new Set(streamPids).size).toBeLessThanOrEqual(workers);
      if (workers > 1) expect(streamPids).not.toContain(server.pid);
      expect(rpcProcedures.filter((p) => p === "/chat.v1.MessageService/SubscribeRoom")).toHaveLength(4);
      expect(output).not.toContain('"level":50');
    } finally {
      await server.kill();
    }
  });

  it("ends the grace period by itself and exits 0", async () => {
    const server = await startServer({ workers, env: { SHUTDOWN_GRACE_SECONDS: "1" } });
    try {
      const address = `127.0.0.1:${server.port}`;
      const watching = watch(address, "");
      await watching.until((r) => r.status === "SERVING");
      server.terminate();
      expect(await server.exited).toBe(0);
      expect(watching.items.map((r) => r.status)).toEqual(["SERVING", "NOT_SERVING"]);
      expect(await watching.status).toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(server.output()).toContain('"msg":"draining');
    } finally {
      await server.kill();
    }
  });
});
