/**
 * The package as a stranger gets it: `npm pack` in client/ (which builds it), unpacked into an
 * empty directory beside its dependencies, imported by plain Node (no TypeScript loader), and
 * used against a real server.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.js";
import { BASE_ENV } from "./support/harness.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** What the README's Node example does, as a plain .mjs file. */
const SCRIPT = `
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

describe("the packed @parley/client", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { ...BASE_ENV } });
  });
  afterAll(async () => server?.stop());

  it("installs from its tarball and runs in plain Node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-pack-"));
    execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: join(repo, "client"), stdio: ["ignore", "pipe", "inherit"] });
    const [tarball] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const listing = execFileSync("tar", ["-tzf", join(dir, tarball!)], { encoding: "utf8" });
    expect(listing).toContain("package/dist/client/src/node.d.ts");
    expect(listing).toContain("package/dist/gen/chat/v1/message_pb.js");
    // Compiled code and declarations only: no TypeScript sources, no maps pointing at them.
    expect(listing.split("\n").filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.endsWith(".map"))).toEqual([]);

    // An app directory: the unpacked package, and its dependencies as npm would have installed them.
    const app = join(dir, "app");
    const modules = join(app, "node_modules");
    mkdirSync(join(modules, "@parley/client"), { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, tarball!), "-C", join(modules, "@parley/client"), "--strip-components=1"]);
    for (const scope of ["@bufbuild", "@connectrpc"]) symlinkSync(join(repo, "node_modules", scope), join(modules, scope));
    writeFileSync(join(app, "main.mjs"), SCRIPT);
    const out = execFileSync(process.execPath, ["main.mjs", server.url], { cwd: app, encoding: "utf8", timeout: 30_000 });
    const result = JSON.parse(out.trim().split("\n").at(-1)!) as { text: string; node: string };
    expect(result.text).toBe("hello from the tarball");
    expect(result.node).toMatch(/^v24\./);
  }, 120_000);
});
