#!/usr/bin/env node
// Dependency-free Kafka readiness probe: sends a Metadata request (v4, all
// topics, no auto-create) and checks that the broker lists itself and knows
// the active controller.
// Usage: node kafka-ping.mjs [host] [port] [timeoutMs]
// Prints "<brokers> broker(s), controller <id>, cluster <id>" and exits 0 on success.
import net from 'node:net';

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 9092);
const timeoutMs = Number(process.argv[4] || 5000);
const CORRELATION = 0x5041524c;

function fail(msg) { process.stderr.write(`kafka-ping: ${msg}\n`); process.exit(1); }

function request() {
  const client = Buffer.from('parley-ping', 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o);            // api_key Metadata
  o = body.writeInt16BE(4, o);            // api_version 4 (oldest served by Kafka 4)
  o = body.writeInt32BE(CORRELATION, o);
  o = body.writeInt16BE(client.length, o);
  o += client.copy(body, o);
  o = body.writeInt32BE(-1, o);           // topics: null = all
  body.writeInt8(0, o);                   // allow_auto_topic_creation = false
  const size = Buffer.alloc(4); size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function parse(b) {
  let o = 0;
  const corr = b.readInt32BE(o); o += 4;
  if (corr !== CORRELATION) throw new Error('bad correlation id');
  o += 4; // throttle_time_ms
  const n = b.readInt32BE(o); o += 4;
  const brokers = [];
  for (let i = 0; i < n; i++) {
    const id = b.readInt32BE(o); o += 4;
    const hl = b.readInt16BE(o); o += 2;
    const h = b.subarray(o, o + hl).toString('utf8'); o += hl;
    const p = b.readInt32BE(o); o += 4;
    const rl = b.readInt16BE(o); o += 2 + Math.max(rl, 0);
    brokers.push(`${id}@${h}:${p}`);
  }
  const cl = b.readInt16BE(o); o += 2;
  const cluster = cl < 0 ? null : b.subarray(o, o + cl).toString('utf8'); o += Math.max(cl, 0);
  const controller = b.readInt32BE(o);
  return { brokers, cluster, controller };
}

const sock = net.connect({ host, port });
const timer = setTimeout(() => { sock.destroy(); fail(`timeout after ${timeoutMs}ms`); }, timeoutMs);
let buf = Buffer.alloc(0);
sock.on('error', (e) => { clearTimeout(timer); fail(e.code || e.message); });
sock.on('close', () => { clearTimeout(timer); fail('connection closed by broker'); });
sock.on('connect', () => sock.write(request()));
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4) return;
  const len = buf.readInt32BE(0);
  if (buf.length < 4 + len) return;
  clearTimeout(timer);
  sock.removeAllListeners('close');
  sock.destroy();
  let r;
  try { r = parse(buf.subarray(4, 4 + len)); } catch (e) { fail(`bad response: ${e.message}`); }
  if (r.brokers.length < 1) fail('no brokers in metadata yet');
  if (r.controller < 0) fail('no active controller yet');
  process.stdout.write(`${r.brokers.length} broker(s) [${r.brokers.join(',')}], controller ${r.controller}, cluster ${r.cluster}\n`);
  process.exit(0);
});
