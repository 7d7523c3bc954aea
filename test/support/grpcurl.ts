import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The absolute path of the `grpcurl` binary: the first on PATH, else in a `bin` folder of `go env GOPATH`.
 * Throws (it never returns a missing path) so that tests needing grpcurl fail rather than skip when it is absent.
 */
export function findGrpcurl(): string {
  const candidates = [...pathDirs(), ...goBinDirs()].map((dir) => join(dir, "grpcurl"));
  const found = candidates.find(isExecutable);
  if (found === undefined) {
    throw new Error(
      "grpcurl not found on PATH or in $(go env GOPATH)/bin; install it with " +
        "`go install github.com/fullstorydev/grpcurl/cmd/grpcurl@latest`",
    );
  }
  return found;
}

function pathDirs(): string[] {
  return (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
}

function goBinDirs(): string[] {
  try {
    const gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim();
    return gopath.split(delimiter).filter((dir) => dir !== "").map((dir) => join(dir, "bin"));
  } catch {
    return []; // no Go toolchain: only PATH counts
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
