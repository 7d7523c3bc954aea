// A sign-in flooder in its own process (so its event loop is not the measuring test's):
// node sign-in-flood.mjs <url> <localAddress> <connections> <requestsEach>
// Each connection sends random-username sign-ins back to back, never waiting for Retry-After,
// until its count is spent or stdin closes. Prints "flooding" once the first answer arrives
// (every connection has a request in flight by then), and at the end one JSON line {status: count}.
import { Agent, request } from "node:http";
import { randomBytes } from "node:crypto";

const [url, localAddress, connections, each] = process.argv.slice(2);
const target = new URL("/auth/signin", url);
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections), localAddress });
const statuses = {};
let stop = false;
let announced = false;
process.stdin.on("close", () => (stop = true));
process.stdin.resume();

function signIn() {
  const body = JSON.stringify({ username: `x${randomBytes(6).toString("hex")}`, password: "guess-guess" });
  return new Promise((resolve) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

await Promise.all(
  Array.from({ length: Number(connections) }, async () => {
    for (let i = 0; i < Number(each) && !stop; i++) {
      const status = await signIn();
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (!announced) {
        announced = true;
        process.stdout.write("flooding\n");
      }
    }
  }),
);
if (!announced) process.stdout.write("flooding\n");
process.stdout.write(`${JSON.stringify(statuses)}\n`);
agent.destroy();
process.exit(0);
