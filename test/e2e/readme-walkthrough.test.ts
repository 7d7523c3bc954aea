/**
 * The README's "Try it" section, followed literally against a fresh server: every shell block in
 * order (grpcurl through reflection, curl with Connect, the REST walk-through, grpcurl with the
 * committed descriptor set), then the "Other languages" Node client and — when a Python with
 * grpcio is at hand (PARLEY_TEST_PYTHON, else python3) — the Python one. Only the address is
 * changed. Nothing may answer an error a newcomer did not cause: no 4xx/5xx, no error JSON, no
 * 409 from a name an earlier section already took; the one grpcurl error is the 5-second
 * deadline the README announces.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGrpcurl } from "../support/grpcurl.js";
import { startServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const TRY_IT = README.slice(README.indexOf("## Try it"), README.indexOf("## Configuration"));
const OTHER_LANGUAGES = TRY_IT.slice(TRY_IT.indexOf("### Other languages"));

/** The fenced blocks of one language in `text`, in order. */
function blocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

const PYTHON = process.env.PARLEY_TEST_PYTHON ?? "python3";
const hasPythonGrpc = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" }).status === 0;

let server: TestServer;
let address: string;
let scratch: string;
beforeAll(async () => {
  server = await startServer();
  address = `127.0.0.1:${server.port}`;
  // Inside the repository, so that the Node client resolves @grpc/grpc-js from node_modules (build/ is not committed).
  mkdirSync(join(ROOT, "build"), { recursive: true });
  scratch = mkdtempSync(join(ROOT, "build", "readme-"));
});
afterAll(async () => {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const here = (code: string) => code.replaceAll("localhost:8080", address);

describe("the README, followed literally", () => {
  it("runs every shell block of Try it, in order, without an error", async () => {
    const script = blocks(TRY_IT, "sh").map(here).join("\n");
    const path = [dirname(findGrpcurl()), process.env.PATH ?? ""].join(delimiter);
    // One shell, as a reader pasting the blocks one after the other; both output streams together.
    const { stdout } = await run("bash", ["-c", `exec 2>&1\n${script}`], { cwd: ROOT, env: { ...process.env, PATH: path }, timeout: 90_000, maxBuffer: 16 << 20 });
    expect(stdout).not.toMatch(/^HTTP\/1\.1 [45]\d\d/m);
    expect(stdout).not.toMatch(/"code":\s*"/);
    expect(stdout.match(/^ERROR:/gm)?.length ?? 0).toBe(1);
    expect(stdout).toContain("Code: DeadlineExceeded");
    for (const expected of ['"status": "SERVING"', '"username": "alice"', '"ready": {', '"username":"bob"', "HTTP/1.1 201 Created", "location: http://", "HTTP/1.1 202 Accepted", "event: ready", "HTTP/1.1 204 No Content", "// Chat rooms: list, create, look up, watch the list live.", '"username": "dave"']) {
      expect(stdout).toContain(expected);
    }
  });

  it("runs the Node client of Other languages", async () => {
    const [client] = blocks(OTHER_LANGUAGES, "js");
    const file = join(scratch, "client.mjs");
    writeFileSync(file, here(client!));
    const { stdout } = await run(process.execPath, [file], { cwd: ROOT, timeout: 30_000 });
    expect(stdout).toMatch(/^ready /m);
    expect(stdout).toMatch(/^message .*hello from Node/ms);
  });

  // CI installs grpcio (.ci/run): there, a missing one fails instead of skipping.
  it.skipIf(!hasPythonGrpc && !process.env.CI)("runs the Python client of Other languages (a Python with grpcio)", async () => {
    const [client] = blocks(OTHER_LANGUAGES, "python");
    const file = join(scratch, "client.py");
    writeFileSync(file, here(client!));
    const { stdout } = await run(PYTHON, [file], { cwd: ROOT, timeout: 30_000 });
    expect(stdout).toContain('text: "hello from Python"');
    expect(stdout).toMatch(/^ready \{/m);
  });
});
