/**
 * The bare baseline: a `ws` broadcast server with nothing else — no auth, no store, no
 * channels. Each socket gets {"type":"ready"} on connect; POST /publish with a text body sends
 * {"type":"message","text":…} (one encoding, the same Buffer) to every open socket and answers
 * 204. It is Node's practical fan-out limit, the yardstick of the `baseline` workload.
 * Run: PORT=9000 node --import tsx bench/baseline-server.ts
 */
import { createServer } from "node:http";
import { WebSocketServer, WebSocket } from "ws";

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return void res.end("ok");
  if (req.method !== "POST" || req.url !== "/publish") return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const frame = Buffer.from(JSON.stringify({ type: "message", text: Buffer.concat(chunks).toString() }));
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(frame);
    res.writeHead(204).end();
  });
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const READY = JSON.stringify({ type: "ready" });
wss.on("connection", (socket) => socket.send(READY));
server.listen(Number(process.env.PORT ?? 9000), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
