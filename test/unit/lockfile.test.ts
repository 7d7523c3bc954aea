/**
 * package-lock.json is committed as npm writes it, so `npm install` on a fresh clone leaves it
 * unchanged: in particular npm records `hasInstallScript` for every package with an install step
 * (an install/preinstall/postinstall script, or a binding.gyp, which npm builds by default) —
 * a lockfile without it is rewritten by the first install.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

interface LockEntry {
  readonly hasInstallScript?: boolean;
  readonly link?: boolean;
}

describe("package-lock.json", () => {
  it("marks exactly the installed packages that have an install step with hasInstallScript", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.startsWith("node_modules/") || entry.link) continue;
      const manifest = join(ROOT, path, "package.json");
      if (!existsSync(manifest)) continue; // an optional dependency for another platform
      const { scripts = {} } = JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: Record<string, string> };
      const installs = ["preinstall", "install", "postinstall"].some((s) => s in scripts) || existsSync(join(ROOT, path, "binding.gyp"));
      checked++;
      if (installs !== (entry.hasInstallScript === true)) wrong.push(`${path}: hasInstallScript should be ${installs}`);
    }
    expect(checked).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });
});
