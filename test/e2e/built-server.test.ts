/**
 * The server as it ships: compiled by `npm run build` (dist/, which `npm test` builds first) and
 * started the image's way — the Dockerfile's ENTRYPOINT script with its CMD, from the
 * repository root as the image's /app — with the default WORKERS. It serves the things that
 * read files beside the code (the SQLite append thread, the descriptor set behind the API
 * docs, Swagger UI's files), with no tsx anywhere; and SIGTERM to the process the image
 * starts drains and exits 0, leaving no worker behind.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { imageCommand, imageEntrypoint } from "../support/image-command.js";
import { tempDir } from "../support/server.js";
import { uniqueName } from "../support/clients.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Whether a process is alive (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the built server, started as the image starts it", () => {
  it("serves from dist/ and drains and exits 0 on SIGTERM", async () => {
    const [node, ...args] = imageCommand();
    expect(existsSync(resolve(ROOT, args.at(-1)!)), "dist/ is missing: run `npm run build` (npm test does)").toBe(true);
    // The image's `node` is the pinned Node 24; here that is the node running the tests.
    expect(node).toBe("node");
    const child = spawn("/bin/sh", [imageEntrypoint(), process.execPath, ...args], {
      cwd: ROOT,
      env: { ...process.env, HOST: "127.0.0.1", PORT: "0", DATA_DIR: tempDir(), SHUTDOWN_GRACE_SECONDS: "1", WORKERS: "", NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`the built server did not listen in 30 s:\n${output}`)), 30_000);
      const look = () => {
        // WORKERS=auto: one process per core; the primary of several says when the whole node listens.
        const line = output.split("\n").find((l) => l.includes(availableParallelism() > 1 ? '"msg":"parley cluster listening"' : '"msg":"parley listening"'));
        const match = line && /"port":(\d+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolvePort(Number(match[1]));
        }
      };
      child.stdout!.on("data", look);
      void exited.then((code) => reject(new Error(`the built server exited with ${code}:\n${output}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const json = (body: unknown, token?: string) => ({
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const account = { username: uniqueName("built"), password: "correct horse battery" };
    expect((await fetch(`${base}/auth/signup`, json(account))).status).toBe(201);
    const { accessToken } = (await (await fetch(`${base}/auth/signin`, json(account))).json()) as { accessToken: string };
    const room = (await (await fetch(`${base}/rooms`, json({ name: uniqueName("built") }, accessToken))).json()) as { roomId: string };
    // Stored through the SQLite append thread, which the build must find as compiled JavaScript.
    const posted = await fetch(`${base}/room/${room.roomId}/messages`, json({ text: "from dist" }, accessToken));
    expect(posted.status).toBe(201);
    // The API reference reads the descriptor set beside the build for the proto's comments.
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(Object.values(openapi.paths).some((ops) => Object.values(ops).some((op) => (op.description ?? "").length > 0))).toBe(true);
    expect((await fetch(`${base}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
    expect(output).not.toMatch(/tsx/);

    const workerPids = [...output.matchAll(/"pid":(\d+)[^\n]*"msg":"parley listening"/g)].map((m) => Number(m[1]));
    child.kill("SIGTERM");
    expect(await exited, output.slice(-3000)).toBe(0);
    expect(output).toMatch(/"msg":"draining/);
    for (const pid of workerPids) expect(alive(pid), `worker ${pid} outlived its node`).toBe(false);
  });
});
