/** Opening the SQLite file the way every connection of the store needs it. */
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";

/** How a connection commits: FULL survives power loss; NORMAL survives a process crash only. */
export type Synchronous = "FULL" | "NORMAL";

/** A connection in WAL mode with foreign keys on, 64-bit integers as bigint, and a 5 s busy wait. */
export function openDatabase(file: string, synchronous: Synchronous): Db {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.defaultSafeIntegers(true);
  return db;
}
