// Creates the deployment's shared Ed25519 token signing key (PKCS#8 PEM) at the given path,
// once: an existing key is kept, so tokens stay valid across `docker compose up` runs.
// Usage: node make-token-key.mjs /keys/token-private-key.pem [uid] [gid]
import { generateKeyPairSync } from "node:crypto";
import { chownSync, existsSync, writeFileSync } from "node:fs";

const [file, uid = "1000", gid = "1000"] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node make-token-key.mjs <file> [uid] [gid]\n");
  process.exit(2);
}
if (existsSync(file)) {
  process.stdout.write(`token key ${file} exists; kept\n`);
} else {
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
  writeFileSync(file, pem, { mode: 0o400, flag: "wx" });
  // The nodes run as the image's unprivileged `node` user (uid/gid 1000).
  chownSync(file, Number(uid), Number(gid));
  process.stdout.write(`token key ${file} created\n`);
}
