/**
 * The data directory holds password hashes, direct messages and the token signing key: it is
 * 0700 and every file in it 0600 even when the server starts with a permissive umask (000),
 * SQLite's -wal and -shm included; a data directory left open by an older start is tightened,
 * with a warning, and keeps working.
 */
import { chmodSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, tempDir, type TestServer } from "../support/server.js";
import { chatClients, newUser, uniqueName } from "../support/clients.js";

const mode = (path: string): string => `0${(statSync(path).mode & 0o777).toString(8)}`;
const FILES = ["parley.sqlite", "parley.sqlite-wal", "parley.sqlite-shm", "token-signing-key.pem"];

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Posts one message, so the write-ahead log and shared-memory files exist; returns how to find it again. */
async function post(url: string): Promise<{ username: string; password: string; roomId: string }> {
  const alice = await newUser(url);
  const { room } = await alice.clients.rooms.createRoom({ name: uniqueName("private") });
  await alice.clients.messages.postMessage({ roomId: room!.roomId, text: "only for us" });
  return { username: alice.user.username, password: alice.password, roomId: room!.roomId };
}

describe("private files", () => {
  it("creates a fresh data directory 0700 and its files 0600 under umask 000", async () => {
    // A path that does not exist yet: the server makes it (mkdtemp's own directory is already 0700).
    const dataDir = join(tempDir(), "fresh", "data");
    server = await startServer({ dataDir, umask: "000" });
    expect(mode(dataDir)).toBe("0700");
    expect(mode(join(dataDir, "parley.sqlite"))).toBe("0600");
    expect(mode(join(dataDir, "token-signing-key.pem"))).toBe("0600");
    await post(server.url);
    for (const file of FILES) {
      expect(existsSync(join(dataDir, file)), file).toBe(true);
      expect(mode(join(dataDir, file)), file).toBe("0600");
    }
    // Nothing was open before this start, so nothing to warn about.
    expect(server.output()).not.toContain("private data");
  });

  it("tightens a data directory and files left open to others, warns, and keeps the data", async () => {
    const dataDir = join(tempDir(), "data");
    server = await startServer({ dataDir, umask: "000" });
    const before = await post(server.url);
    // Killed: -wal and -shm stay behind, as after a crash of an older, looser version.
    await server.kill();
    chmodSync(dataDir, 0o777);
    for (const file of FILES) chmodSync(join(dataDir, file), 0o666);

    server = await startServer({ dataDir, umask: "000" });
    expect(mode(dataDir)).toBe("0700");
    for (const file of FILES) if (existsSync(join(dataDir, file))) expect(mode(join(dataDir, file)), file).toBe("0600");
    const warnings = server.output().split("\n").filter((line) => line.includes("private data was open to other users"));
    expect(warnings.map((line) => (JSON.parse(line) as { path: string; mode: string }).path).sort()).toEqual(
      [dataDir, ...FILES.map((f) => join(dataDir, f))].sort(),
    );
    expect(warnings.every((line) => (JSON.parse(line) as { level: number }).level === 40)).toBe(true);
    const { accessToken } = await chatClients(server.url).auth.signIn({ username: before.username, password: before.password });
    const { messages } = await chatClients(server.url, accessToken).messages.listMessages({ roomId: before.roomId });
    expect(messages.map((m) => m.text)).toEqual(["only for us"]);
    await post(server.url);
    for (const file of FILES) expect(mode(join(dataDir, file)), file).toBe("0600");
  });
});
