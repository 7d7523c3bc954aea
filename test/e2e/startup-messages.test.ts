/**
 * What the server prints when it starts, run as `npm start` runs it (its Node flags, no others):
 * a failed start is one line naming the cause and the variable or port, no stack, no "worker
 * died; restarting", and the right exit code; a normal start — one worker or several, BUS=kafka
 * included — prints nothing but its JSON log lines (no runtime warnings).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../../src/node-flags.js";
import { newUser } from "../support/clients.js";
import { startServer, tempDir, type TestServer } from "../support/server.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Runs the server until it exits by itself; what it printed on each stream, and its exit code. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, HOST: "127.0.0.1", DATA_DIR: tempDir(), SHUTDOWN_GRACE_SECONDS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.once("close", (code) => done({ code, stdout, stderr })));
}

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

/** Output lines that are not the server's JSON log lines (warnings, stacks, stray text). */
function strayLines(output: string): string[] {
  return output.split("\n").filter((line) => line !== "" && !line.startsWith('{"level":'));
}

async function untilClusterListens(server: TestServer): Promise<void> {
  await server.printed((output) => output.includes('"msg":"parley cluster listening"'), 30_000);
}

describe("a failed start", () => {
  it.each(["1", "2"])("with WORKERS=%s, a taken port is one line naming the port, exit 1", async (workers) => {
    const held = await holdPort();
    try {
      const run = await runToExit({ WORKERS: workers, PORT: String(held.port) });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`parley: port ${held.port} on 127.0.0.1 is already in use: stop what listens there, or set PORT to another port\n`);
      expect(run.stdout).toBe("");
    } finally {
      held.server.close();
    }
  });

  it("WORKERS=zero says which values are accepted, auto included, exit 2", async () => {
    const run = await runToExit({ WORKERS: "zero", PORT: "0" });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('parley: invalid configuration: WORKERS="zero": expected auto (one worker per core, the default) or an integer from 1 to 64\n');
    expect(run.stdout).toBe("");
  });
});

describe("a normal start", () => {
  it.each(["1", "2"])("with WORKERS=%s prints only JSON log lines, through sign-up, sign-in and stop", async (workers) => {
    const server = await startServer({ env: { WORKERS: workers } });
    try {
      if (workers !== "1") await untilClusterListens(server);
      await newUser(server.url);
      await newUser(server.url, "grpc");
      expect(await server.stop()).toBe(0);
      expect(strayLines(server.output())).toEqual([]);
    } finally {
      await server.kill();
    }
  });

  const brokers = process.env.KAFKA_BROKERS;
  it.skipIf(!brokers)("with BUS=kafka prints only JSON log lines (KAFKA_BROKERS set)", async () => {
    const server = await startServer({ env: { WORKERS: "2", BUS: "kafka", KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PREFIX: `parley-start-${randomBytes(4).toString("hex")}` } });
    try {
      await untilClusterListens(server);
      const user = await newUser(server.url, "grpc");
      const { room } = await user.clients.rooms.createRoom({ name: "kafka-start" });
      await user.clients.messages.postMessage({ roomId: room!.roomId, text: "through kafka" });
      expect(await server.stop()).toBe(0);
      expect(strayLines(server.output())).toEqual([]);
    } finally {
      await server.kill();
    }
  });
});
