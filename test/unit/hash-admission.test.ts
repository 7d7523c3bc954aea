/** Password-hash admission (bounded running, bounded queue, refusal beyond) and the user-record cache. */
import { describe, expect, it } from "vitest";
import { HashAdmission } from "../../src/auth/hash-admission.js";
import { UserDirectory } from "../../src/auth/user-directory.js";
import { ResourceExhaustedError } from "../../src/domain/errors.js";
import type { UserRecord } from "../../src/domain/model.js";

/** A hash the test finishes by hand. */
function gate() {
  let finish!: () => void;
  let started = false;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    hash: async () => {
      started = true;
      await done;
      return "hashed";
    },
    finish: () => finish(),
    get started() {
      return started;
    },
  };
}

describe("HashAdmission", () => {
  it("runs at most `concurrency` hashes, queues at most `queue`, refuses the rest at once", async () => {
    let refusals = 0;
    const admission = new HashAdmission(2, 3, () => refusals++);
    const hashes = Array.from({ length: 6 }, gate);
    const results = hashes.map((h) => admission.run(h.hash).catch((e: unknown) => e));
    await Promise.resolve();
    expect(hashes.map((h) => h.started)).toEqual([true, true, false, false, false, false]);
    expect(admission.load).toEqual({ running: 2, waiting: 3 });
    const refused = await results[5];
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect((refused as ResourceExhaustedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refusals).toBe(1);

    // In arrival order, one finished hash lets exactly one waiter in.
    hashes[1]!.finish();
    await results[1];
    await new Promise((r) => setImmediate(r));
    expect(hashes.map((h) => h.started)).toEqual([true, true, true, false, false, false]);
    expect(admission.load).toEqual({ running: 2, waiting: 2 });
    for (const h of hashes) h.finish();
    expect(await Promise.all(results.slice(0, 5))).toEqual(Array(5).fill("hashed"));
    expect(admission.load).toEqual({ running: 0, waiting: 0 });
  });

  it("frees the slot of a hash that fails", async () => {
    const admission = new HashAdmission(1, 0);
    await expect(admission.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(admission.run(async () => 1)).resolves.toBe(1);
    expect(admission.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe("UserDirectory", () => {
  const user = (id: string): UserRecord => ({ id, username: `name-${id}`, createdAtMs: 1 });

  it("reads a user once, shares concurrent reads, keeps the most recently used", async () => {
    const reads: string[] = [];
    const store = {
      findUserById: async (id: string) => {
        reads.push(id);
        return id.startsWith("9") ? undefined : user(id);
      },
    };
    const users = new UserDirectory(store, 2);
    const [a, b] = await Promise.all([users.find("1"), users.find("1")]);
    expect(a).toEqual(user("1"));
    expect(b).toEqual(user("1"));
    expect(reads).toEqual(["1"]);
    await users.find("2");
    expect(users.cached("1")).toEqual(user("1")); // now the most recent
    await users.find("3"); // evicts 2, the least recently used
    expect(users.cached("2")).toBeUndefined();
    expect(users.cached("1")).toEqual(user("1"));
    expect(users.size).toBe(2);
    // Ids of no user are read each time, never cached.
    expect(await users.find("99")).toBeUndefined();
    expect(await users.find("99")).toBeUndefined();
    expect(reads.filter((id) => id === "99")).toHaveLength(2);
    users.remember(user("4"));
    expect(users.cached("4")).toEqual(user("4"));
  });
});
