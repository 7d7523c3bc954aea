/**
 * The package as a stranger gets it: `npm pack` in client/ (which builds it), unpacked into an
 * empty directory beside its dependencies, imported by plain Node (no TypeScript loader), and
 * used against a real server — the README's Node example included, killed and restarted.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createParleyClient } from "@parley/client/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { PASSWORD, SUITE_ENV, SUITE_SERVER } from "./support/harness.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** Uses every entry point, and round-trips a message. */
const SMOKE = `
import { createParleyClient } from "@parley/client/node";
import * as web from "@parley/client/web";
import * as core from "@parley/client";
if (typeof web.createParleyClient !== "function" || typeof core.createParleyClient !== "function") throw new Error("entry points");
const client = createParleyClient({ baseUrl: process.argv[2], transport: "grpc" });
await client.signUp("packed", "correct horse battery");
await client.signIn("packed", "correct horse battery");
const room = await client.createRoom("packed");
const got = new Promise((resolve) => {
  const sub = client.subscribeRoom(room.roomId, {
    onState: (s) => s.status === "live" && void client.post(room.roomId, "hello from the tarball"),
    onMessage: (m) => { sub.close(); resolve(m.text); },
  });
});
console.log(JSON.stringify({ text: await got, node: process.version }));
client.close();
`;

/** The README's "lossless subscriber in a Node service", as written there. */
function readmeNodeExample(): string {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Client library"), readme.indexOf("## Layout"));
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const example = blocks.find((b) => b.includes("@parley/client/node"));
  if (!example) throw new Error("README: no Node example under Client library");
  return example;
}

describe("the packed @parley/client", () => {
  let server: TestServer;
  let app = "";

  beforeAll(async () => {
    server = await startServer({ ...SUITE_SERVER, env: { ...SUITE_ENV } });
    const dir = mkdtempSync(join(tmpdir(), "parley-pack-"));
    execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: join(repo, "client"), stdio: ["ignore", "pipe", "inherit"] });
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error("npm pack made no tarball");
    const listing = execFileSync("tar", ["-tzf", join(dir, tarball)], { encoding: "utf8" });
    expect(listing).toContain("package/dist/client/src/node.d.ts");
    expect(listing).toContain("package/dist/gen/chat/v1/message_pb.js");
    expect(listing).toContain("package/README.md");
    // Compiled code and declarations only: no TypeScript sources, no maps pointing at them.
    expect(listing.split("\n").filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.endsWith(".map"))).toEqual([]);
    // An app directory: the unpacked package, and its dependencies as npm would have installed them.
    app = join(dir, "app");
    const modules = join(app, "node_modules");
    mkdirSync(join(modules, "@parley/client"), { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, tarball), "-C", join(modules, "@parley/client"), "--strip-components=1"]);
    for (const scope of ["@bufbuild", "@connectrpc"]) symlinkSync(join(repo, "node_modules", scope), join(modules, scope));
  }, 120_000);
  afterAll(async () => server?.stop());

  it("imports in plain Node 24 and round-trips a message", () => {
    writeFileSync(join(app, "smoke.mjs"), SMOKE);
    const out = execFileSync(process.execPath, ["smoke.mjs", server.url], { cwd: app, encoding: "utf8", timeout: 30_000 });
    const result = JSON.parse(out.trim().split("\n").at(-1)!) as { text: string; node: string };
    expect(result.text).toBe("hello from the tarball");
    expect(result.node).toMatch(/^v24\./);
  }, 60_000);

  it("runs the README's Node subscriber: every message once, in order, across a SIGKILL of the service", async () => {
    writeFileSync(join(app, "subscriber.mjs"), readmeNodeExample());
    const poster = createParleyClient({ baseUrl: server.url, transport: "connect" });
    await poster.signUp("readme_poster", PASSWORD);
    await poster.signIn("readme_poster", PASSWORD);
    await poster.signUp("readme_bot", PASSWORD);
    const room = await poster.createRoom("readme");
    const env = { ...process.env, PARLEY_URL: server.url, PARLEY_USER: "readme_bot", PARLEY_PASSWORD: PASSWORD, PARLEY_ROOM: room.roomId };
    let printed = "";
    const run = (): ChildProcess => {
      const child = spawn(process.execPath, ["subscriber.mjs"], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      return child;
    };
    const lines = (): string[] => printed.split("\n").filter(Boolean);
    const texts = Array.from({ length: 10 }, (_, i) => `note ${i}`);

    let service = run();
    await expect.poll(() => existsSync(join(app, "cursor")), { timeout: 20_000 }).toBe(true); // live: it wrote its position
    for (const text of texts.slice(0, 5)) await poster.post(room.roomId, text);
    await expect.poll(lines, { timeout: 20_000 }).toHaveLength(5);
    service.kill("SIGKILL");
    await new Promise((resolve) => service.once("exit", resolve));
    for (const text of texts.slice(5)) await poster.post(room.roomId, text); // while the service is down
    service = run();
    await expect.poll(lines, { timeout: 20_000 }).toHaveLength(10);
    service.kill("SIGKILL");
    expect(lines()).toEqual(texts.map((t) => `readme_poster: ${t}`));
    poster.close();
  }, 90_000);
});
