/**
 * The shape of src/'s imports, type imports included (read by TypeScript's own pre-processor):
 * no module imports itself through others, and folders do not import each other both ways.
 * src/ itself is the composition root (app.ts, adapters.ts, main.ts wire the folders; config.ts
 * and a few leaves are read by all), so it is left out of the folder rule. src/edges/ is the
 * edges' composition root in the same way (edges.ts, router.ts, listener.ts): nothing below it
 * imports it back.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

/** Every .ts file under src/ and the files it imports by relative path (gen/'s too). */
function importGraph(): Map<string, string[]> {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => join(SRC, f));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const imported = ts
      .preProcessFile(readFileSync(file, "utf8"), true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => resolve(dirname(file), name.replace(/\.js$/, ".ts")));
    graph.set(file, imported);
  }
  return graph;
}

describe("src/ imports", () => {
  const graph = importGraph();
  const name = (file: string) => relative(SRC, file);

  it("resolve to files that exist (else the rules below would miss them)", () => {
    for (const [file, imported] of graph) for (const target of imported) expect(existsSync(target), `${name(file)} imports ${name(target)}`).toBe(true);
  });

  it("have no cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const path: string[] = [];
    const visit = (file: string) => {
      state.set(file, "visiting");
      path.push(file);
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === "visiting") cycles.push([...path.slice(path.indexOf(target)), target].map(name).join(" → "));
        else if (!state.has(target)) visit(target);
      }
      path.pop();
      state.set(file, "done");
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("do not go both ways between folders", () => {
    const folderOf = (file: string) => relative(SRC, dirname(file));
    const between = new Set<string>();
    for (const [file, imported] of graph) {
      for (const target of imported) {
        const [from, to] = [folderOf(file), folderOf(target)];
        if (to.startsWith("..")) continue; // gen/
        if (from !== to && from !== "" && to !== "") between.add(`${from} -> ${to}`);
      }
    }
    const twoWay = [...between]
      .map((edge) => edge.split(" -> ") as [string, string])
      .filter(([from, to]) => from < to && between.has(`${to} -> ${from}`))
      .map(([from, to]) => `${from} <=> ${to}`);
    expect(twoWay).toEqual([]);
  });

  it("do not reach back up into src/edges/'s composition root from its folders", () => {
    const edgesRoot = join(SRC, "edges");
    const upward: string[] = [];
    for (const [file, imported] of graph) {
      if (!file.startsWith(edgesRoot + "/") || dirname(file) === edgesRoot) continue;
      for (const target of imported) if (dirname(target) === edgesRoot) upward.push(`${name(file)} → ${name(target)}`);
    }
    expect(upward).toEqual([]);
  });
});
