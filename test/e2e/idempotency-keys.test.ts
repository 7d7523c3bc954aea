/**
 * An idempotency key (client_message_id) names one request: the same request again gets the
 * first message, the key reused for another target or text is refused with ALREADY_EXISTS /
 * 409 and stores nothing — over REST, Connect, gRPC (the unary fast path), gRPC-Web and /ws,
 * in races of one key with different bodies, and across the workers of a node (the primary's
 * sequenced store).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { newUser, uniqueName, type Protocol } from "../support/clients.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

type Json = Record<string, unknown>;

async function restPost(base: string, token: string, path: string, body: Json): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function restList(base: string, token: string, path: string): Promise<Json[]> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Json[];
}

/** Two rooms, a sender and a recipient on `base`. */
async function scene(base: string, protocol: Protocol = "connect-json") {
  const alice = await newUser(base, protocol);
  const bob = await newUser(base, protocol);
  const roomA = (await alice.clients.rooms.createRoom({ name: uniqueName("idem-a") })).room!.roomId;
  const roomB = (await alice.clients.rooms.createRoom({ name: uniqueName("idem-b") })).room!.roomId;
  return { alice, bob, roomA, roomB };
}

describe("REST", () => {
  it("answers the same request with the first message and refuses the key for another target or text (409, nothing stored)", async () => {
    const { alice, bob, roomA, roomB } = await scene(server.url);
    const first = await restPost(server.url, alice.token, `/room/${roomA}/messages`, { text: "Général", clientMessageId: "k-1" });
    expect(first.status).toBe(201);
    // The same request, its text in another Unicode form: after NFC it is the same text.
    const again = await restPost(server.url, alice.token, `/room/${roomA}/messages`, { text: "Ge\u0301ne\u0301ral", clientMessageId: "k-1" });
    expect(again).toEqual({ status: 201, body: first.body });

    for (const [path, body] of [
      [`/room/${roomB}/messages`, { text: "Général", clientMessageId: "k-1" }],
      [`/users/${bob.user.username}/messages`, { text: "Général", clientMessageId: "k-1" }],
      [`/room/${roomA}/messages`, { text: "Général!", clientMessageId: "k-1" }],
    ] as const) {
      const refused = await restPost(server.url, alice.token, path, body);
      expect(refused.status, path).toBe(409);
      expect(refused.body["code"]).toBe("already_exists");
      expect(refused.body["message"]).toMatch(/client_message_id "k-1" was already used for a different message/);
    }
    expect((await restList(server.url, alice.token, `/room/${roomA}/messages`)).map((m) => m["text"])).toEqual(["Général"]);
    expect(await restList(server.url, alice.token, `/room/${roomB}/messages`)).toEqual([]);
    expect(await restList(server.url, bob.token, `/me/messages`)).toEqual([]);
  });

  it("lets one request win a race of one key with different bodies; the others get 409 and store nothing", async () => {
    const { alice, roomA, roomB } = await scene(server.url);
    const attempts = Array.from({ length: 12 }, (_, i) =>
      restPost(server.url, alice.token, `/room/${i % 2 === 0 ? roomA : roomB}/messages`, { text: `body ${i}`, clientMessageId: "race" }),
    );
    const answers = await Promise.all(attempts);
    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(11);
    const stored = [
      ...(await restList(server.url, alice.token, `/room/${roomA}/messages`)),
      ...(await restList(server.url, alice.token, `/room/${roomB}/messages`)),
    ];
    expect(stored).toEqual([won[0]!.body]);
  });
});

describe.each(["connect-json", "grpc", "grpc-web"] as const)("%s", (protocol) => {
  it("refuses a reused key with ALREADY_EXISTS and answers the same request with the first message", async () => {
    const { alice, bob, roomA, roomB } = await scene(server.url, protocol);
    const { messages } = alice.clients;
    const dm = await messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: bob.user.userId }, text: "hi", clientMessageId: "k-2" });
    // The same recipient named the other way is the same request.
    const same = await messages.sendDirectMessage({ recipient: { case: "recipientUsername", value: bob.user.username }, text: "hi", clientMessageId: "k-2" });
    expect(same.message).toEqual(dm.message);

    const refusals = [
      () => messages.postMessage({ roomId: roomA, text: "hi", clientMessageId: "k-2" }),
      () => messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: alice.user.userId }, text: "hi", clientMessageId: "k-2" }),
      () => messages.sendDirectMessage({ recipient: { case: "recipientUserId", value: bob.user.userId }, text: "hi there", clientMessageId: "k-2" }),
    ];
    for (const refused of refusals) {
      const error = await refused().then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code).toBe(Code.AlreadyExists);
      expect(error?.rawMessage).toMatch(/client_message_id "k-2" was already used for a different message/);
    }
    expect((await messages.listMessages({ roomId: roomA })).messages).toEqual([]);
    expect((await alice.clients.messages.listDirectMessages({})).messages).toEqual([]);
    expect((await bob.clients.messages.listDirectMessages({})).messages.map((m) => m.messageId)).toEqual([dm.message!.messageId]);

    // A race of one key with different bodies: one wins, the rest are refused.
    const race = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => messages.postMessage({ roomId: i % 2 === 0 ? roomA : roomB, text: `race ${i}`, clientMessageId: "k-race" })),
    );
    const won = race.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of race) if (r.status === "rejected") expect(ConnectError.from(r.reason).code).toBe(Code.AlreadyExists);
    const stored = [...(await messages.listMessages({ roomId: roomA })).messages, ...(await messages.listMessages({ roomId: roomB })).messages];
    expect(stored.map((m) => m.messageId)).toEqual([(won[0] as PromiseFulfilledResult<{ message?: { messageId: string } }>).value.message!.messageId]);
  });
});

describe("/ws", () => {
  it("answers a reused key with an already_exists error frame", async () => {
    const { alice, roomA, roomB } = await scene(server.url);
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, { headers: { authorization: `Bearer ${alice.token}` } });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const request = (frame: Json): Promise<Json> =>
      new Promise((resolve) => {
        const onMessage = (data: Buffer) => {
          const answer = JSON.parse(data.toString()) as Json;
          if (answer["ref"] !== frame["ref"]) return;
          ws.off("message", onMessage);
          resolve(answer);
        };
        ws.on("message", onMessage);
        ws.send(JSON.stringify(frame));
      });
    const ack = await request({ type: "post", ref: "1", room_id: roomA, text: "hello", client_message_id: "k-3" });
    expect(ack["type"]).toBe("ack");
    const refused = await request({ type: "post", ref: "2", room_id: roomB, text: "hello", client_message_id: "k-3" });
    expect(refused).toMatchObject({ type: "error", code: "already_exists", ref: "2" });
    expect(await request({ type: "post", ref: "3", room_id: roomA, text: "hello", client_message_id: "k-3" })).toMatchObject({ type: "ack", message: ack["message"] });
    ws.close();
  });
});

describe("a node of two workers (appends sequenced by the primary)", () => {
  it("lets one request win a race of one key with different bodies across the workers", async () => {
    const node = await startServer({ env: { WORKERS: "2" } });
    try {
      // The first worker's "parley listening" ends startServer; the node is whole once the primary says so.
      await node.printed((output) => output.includes('"msg":"parley cluster listening"'), 30_000);
      const { alice, roomA, roomB } = await scene(node.url);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          restPost(node.url, alice.token, `/room/${i % 2 === 0 ? roomA : roomB}/messages`, { text: `body ${i}`, clientMessageId: "race" }),
        ),
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 409)).toHaveLength(11);
      const stored = [
        ...(await restList(node.url, alice.token, `/room/${roomA}/messages`)),
        ...(await restList(node.url, alice.token, `/room/${roomB}/messages`)),
      ];
      expect(stored).toHaveLength(1);
    } finally {
      expect(await node.stop()).toBe(0);
    }
  });
});
