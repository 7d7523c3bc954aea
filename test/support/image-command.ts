/** The container image's way of starting Parley, read from the Dockerfile: its ENTRYPOINT script and CMD (exec form). */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const dockerfile = () => readFileSync(resolve(ROOT, "Dockerfile"), "utf8");

/** The CMD's argv (the JSON array form; anything else fails the test that asks). */
export function imageCommand(): string[] {
  const json = /^CMD (\[.*\])$/m.exec(dockerfile())?.[1];
  if (!json) throw new Error("the Dockerfile has no CMD in exec (JSON array) form");
  return JSON.parse(json) as string[];
}

/** The ENTRYPOINT script, as a path inside the repository (the image copies the repository to /app). */
export function imageEntrypoint(): string {
  const path = /^ENTRYPOINT \["\/app\/(.+?)"\]$/m.exec(dockerfile())?.[1];
  if (!path) throw new Error("the Dockerfile has no ENTRYPOINT under /app in exec form");
  return path;
}
