/**
 * The SQLite store's append thread: appends that arrive while a batch is being committed are
 * committed in the next batch, every promise resolves in order once its row is stored, an
 * idempotency key repeated within one batch names the first message, and close() waits for
 * everything queued.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SnowflakeGenerator, compareIds } from "../../src/domain/ids.js";
import type { ChatMessage } from "../../src/domain/model.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const ids = new SnowflakeGenerator(11);
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "parley-group-commit-"));
  file = join(dir, "parley.sqlite");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withRoom(store: SqliteStore): Promise<string> {
  const room = { id: ids.next(), name: "Lobby", nameKey: "lobby", createdBy: "1", createdAtMs: Date.now() };
  await store.createRoom(room);
  return room.id;
}

function message(roomId: string, text: string): ChatMessage {
  return { id: ids.next(), channel: { kind: "room", id: roomId }, senderId: "42", senderName: "ada", text, createdAtMs: Date.now(), clientMessageId: "" };
}

describe("SQLite group commit", () => {
  it("stores every append made while earlier ones are being committed, resolving in order", async () => {
    const store = new SqliteStore({ file, synchronous: "NORMAL" });
    const roomId = await withRoom(store);
    const resolved: string[] = [];
    const sent: ChatMessage[] = [];
    const waves: Promise<unknown>[] = [];
    for (let wave = 0; wave < 5; wave++) {
      for (let i = 0; i < 200; i++) {
        const m = message(roomId, `w${wave}-${i}`);
        sent.push(m);
        waves.push(store.appendMessage(m).then((r) => resolved.push(r.message.id)));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waves);
    expect(resolved).toEqual(sent.map((m) => m.id));
    const page = await store.listRoomMessages(roomId, { limit: 2000 });
    expect(page.map((m) => m.id)).toEqual([...sent.map((m) => m.id)].sort(compareIds).reverse());
    await store.close();
  });

  it("answers a key repeated within one batch with the first message", async () => {
    const store = new SqliteStore({ file, synchronous: "NORMAL" });
    const roomId = await withRoom(store);
    const key = { senderId: "42", key: "k-1", expiresAtMs: Date.now() + 60_000 };
    const first = message(roomId, "first");
    const [a, b] = await Promise.all([store.appendMessage(first, key), store.appendMessage(message(roomId, "again"), key)]);
    expect(a).toEqual({ message: first, created: true });
    expect(b.created).toBe(false);
    expect(b.message).toEqual(first);
    await store.close();
  });

  it("commits what is queued before close() resolves, and refuses appends afterwards", async () => {
    const store = new SqliteStore({ file, synchronous: "FULL" });
    const roomId = await withRoom(store);
    const pending = Array.from({ length: 300 }, (_, i) => store.appendMessage(message(roomId, `m${i}`)));
    await store.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(300);
    await expect(store.appendMessage(message(roomId, "late"))).rejects.toThrow(/closed/);
    const reopened = new SqliteStore({ file });
    expect(await reopened.listRoomMessages(roomId, { limit: 1000 })).toHaveLength(300);
    await reopened.close();
  });
});
