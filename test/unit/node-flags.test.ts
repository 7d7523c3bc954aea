/**
 * The server's Node flags (src/node-flags.ts) are the ones `npm start` and the image pass, and cluster
 * workers get any the primary lacks without doubling those it has.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, withServerFlags } from "../../src/node-flags.js";
import { imageCommand } from "../support/image-command.js";

describe("server Node flags", () => {
  it("npm start passes every one of them", () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };
    const start = pkg.scripts["start"]!.split(/\s+/);
    for (const flag of SERVER_NODE_FLAGS) expect(start).toContain(flag);
  });

  it("the image's CMD passes every one of them", () => {
    const command = imageCommand();
    for (const flag of SERVER_NODE_FLAGS) expect(command).toContain(flag);
  });

  it("adds what is missing and keeps what the process set itself", () => {
    expect(withServerFlags(["--import", "tsx"])).toEqual(["--import", "tsx", ...SERVER_NODE_FLAGS]);
    const others = SERVER_NODE_FLAGS.filter((flag) => !flag.startsWith("--max-semi-space-size="));
    expect(withServerFlags(["--max-semi-space-size=4"])).toEqual(["--max-semi-space-size=4", ...others]);
    expect(withServerFlags(withServerFlags([]))).toEqual([...SERVER_NODE_FLAGS]);
  });

  it("adds a --disable-warning flag beside the process's own, which name other warnings", () => {
    const own = ["--disable-warning=ExperimentalWarning"];
    expect(withServerFlags(own)).toEqual([...own, ...SERVER_NODE_FLAGS]);
  });
});
