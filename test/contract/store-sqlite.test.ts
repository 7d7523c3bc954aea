/** The store contract against the embedded adapter: a real SQLite file in a temp directory. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { storeContract } from "./store-contract.js";

storeContract("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "parley-store-"));
  const store = new SqliteStore({ file: join(dir, "parley.sqlite"), synchronous: "NORMAL" });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
