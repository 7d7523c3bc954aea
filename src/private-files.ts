/**
 * The data directory and the files in it hold password hashes, direct messages and the token
 * signing key: only the server's own user may read them, whatever the umask it was started
 * with. Modes are set explicitly after creation (a umask only removes bits, and a permissive
 * one — 000 — would leave a fresh directory 0777), and an existing directory or file that is
 * open to others is tightened, not just warned about: the server owns its data directory.
 * Each function returns what it had to tighten, so the caller can log it (it means the data
 * was readable by others until now).
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, statSync } from "node:fs";

/** Owner only: rwx for the directory, rw for files. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** A path whose mode let others in, the mode it had, and whether it could be tightened. */
export interface Loosened {
  readonly path: string;
  /** The permission bits it had, e.g. "0755". */
  readonly mode: string;
  /** The permission bits it should have: "0700" or "0600". */
  readonly wanted: string;
  /** False when chmod was refused (the server does not own it); the mode is unchanged then. */
  readonly tightened: boolean;
}

/**
 * Creates `dir` (and missing parents) and makes it 0700. Only `dir` itself is tightened:
 * parents may be shared directories (a home, /var/lib) that are not the server's to change.
 */
export function ensurePrivateDir(dir: string): Loosened[] {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  return tighten(dir, statSync(dir).mode, PRIVATE_DIR_MODE, (mode) => chmodSync(dir, mode));
}

/**
 * Creates `file` empty if it does not exist (an empty file is a valid new SQLite database), and
 * makes it 0600 — before any library opens it, so that files created after it with "the mode
 * of the main file" (SQLite's -wal, -shm and -journal) are 0600 too. Never truncates.
 */
export function ensurePrivateFile(file: string): Loosened[] {
  const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    return tighten(file, fstatSync(fd).mode, PRIVATE_FILE_MODE, (mode) => fchmodSync(fd, mode));
  } finally {
    closeSync(fd);
  }
}

/** Makes an existing file 0600; does nothing when it does not exist. */
export function tightenIfPresent(file: string): Loosened[] {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return tighten(file, mode, PRIVATE_FILE_MODE, (m) => chmodSync(file, m));
}

/**
 * Sets `wanted` when the permission bits differ (a fresh file made under an odd umask such as
 * 0277 would not even be writable by its owner); reports only modes that let others in.
 */
function tighten(path: string, current: number, wanted: number, chmod: (mode: number) => void): Loosened[] {
  const bits = current & 0o777;
  if (bits === wanted) return [];
  let tightened = true;
  try {
    chmod(wanted);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "EACCES") throw error;
    tightened = false;
  }
  const octal = (n: number) => `0${n.toString(8)}`;
  return (bits & 0o077) !== 0 || !tightened ? [{ path, mode: octal(bits), wanted: octal(wanted), tightened }] : [];
}

/** Logs what had been open to others (warn: the data was exposed until this start). */
export function reportLoosened(logger: { warn(obj: object, msg: string): void }, found: readonly Loosened[]): void {
  for (const { path, mode, wanted, tightened } of found) {
    logger.warn(
      { path, mode, wanted },
      tightened ? "private data was open to other users; its mode is now owner-only" : "private data is open to other users and its mode could not be changed (not its owner): fix it",
    );
  }
}
