#!/usr/bin/env node
// Dependency-free Kafka readiness probe.
//  1. Metadata v4 (all topics, no auto-create): the broker must list itself
//     and report a controller.
//  2. With --warm: FindCoordinator v1 for a consumer group and for a
//     transactional id. The first call makes the broker create
//     __consumer_offsets / __transaction_state; success means both
//     coordinators are loaded; then InitProducerId v1 (no transactional id)
//     until the broker holds a producer-id block. So the first real consumer
//     group or idempotent/transactional producer does not hit
//     COORDINATOR_LOAD_IN_PROGRESS.
// Usage: node kafka-ping.mjs [host] [port] [timeoutMs] [--warm]
// Prints a one-line summary and exits 0 on success, 1 otherwise.
import net from 'node:net';

const args = process.argv.slice(2).filter((a) => a !== '--warm');
const warm = process.argv.includes('--warm');
const host = args[0] || '127.0.0.1';
const port = Number(args[1] || 9092);
const timeoutMs = Number(args[2] || 5000);

function fail(msg) { process.stderr.write(`kafka-ping: ${msg}\n`); process.exit(1); }

const str = (s) => { const b = Buffer.from(s, 'utf8'); const l = Buffer.alloc(2); l.writeInt16BE(b.length); return Buffer.concat([l, b]); };
const i8 = (v) => { const b = Buffer.alloc(1); b.writeInt8(v); return b; };
const i16 = (v) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; };
const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };

// Request header v1: api_key, api_version, correlation_id, client_id.
function request(apiKey, apiVersion, correlationId, body) {
  const h = Buffer.alloc(8);
  h.writeInt16BE(apiKey, 0); h.writeInt16BE(apiVersion, 2); h.writeInt32BE(correlationId, 4);
  const msg = Buffer.concat([h, str('parley-ping'), body]);
  return Buffer.concat([i32(msg.length), msg]);
}

class Reader {
  constructor(b) { this.b = b; this.o = 0; }
  i8() { const v = this.b.readInt8(this.o); this.o += 1; return v; }
  i16() { const v = this.b.readInt16BE(this.o); this.o += 2; return v; }
  i32() { const v = this.b.readInt32BE(this.o); this.o += 4; return v; }
  str() { const l = this.i16(); if (l < 0) return null; const s = this.b.subarray(this.o, this.o + l).toString('utf8'); this.o += l; return s; }
}

const sock = net.connect({ host, port });
const timer = setTimeout(() => { sock.destroy(); fail(`timeout after ${timeoutMs}ms`); }, timeoutMs);
sock.on('error', (e) => { clearTimeout(timer); fail(e.code || e.message); });
sock.on('close', () => { clearTimeout(timer); fail('connection closed by broker'); });

let buf = Buffer.alloc(0);
let waiting = null;
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4) return;
  const len = buf.readInt32BE(0);
  if (buf.length < 4 + len) return;
  const frame = buf.subarray(4, 4 + len);
  buf = buf.subarray(4 + len);
  const w = waiting; waiting = null;
  if (w) w(new Reader(frame));
});
let corr = 0;
function call(apiKey, apiVersion, body) {
  const id = ++corr;
  return new Promise((resolve) => {
    waiting = (r) => { if (r.i32() !== id) fail('bad correlation id'); resolve(r); };
    sock.write(request(apiKey, apiVersion, id, body));
  });
}

async function metadata() {
  const r = await call(3, 4, Buffer.concat([i32(-1), i8(0)]));
  r.i32(); // throttle_time_ms
  const n = r.i32();
  const brokers = [];
  for (let i = 0; i < n; i++) {
    const id = r.i32(); const h = r.str(); const p = r.i32(); r.str();
    brokers.push(`${id}@${h}:${p}`);
  }
  const cluster = r.str();
  const controller = r.i32();
  if (brokers.length < 1) fail('no brokers in metadata yet');
  if (controller < 0) fail('no active controller yet');
  return `${brokers.length} broker(s) [${brokers.join(',')}], cluster ${cluster}`;
}

async function findCoordinator(key, keyType) {
  const r = await call(10, 1, Buffer.concat([str(key), i8(keyType)]));
  r.i32(); // throttle_time_ms
  const err = r.i16(); const msg = r.str();
  if (err !== 0) fail(`${keyType ? 'transaction' : 'group'} coordinator not ready (error ${err}${msg ? `: ${msg}` : ''})`);
}

async function initProducerId() {
  // Idempotent producer id (null transactional id); the broker answers
  // COORDINATOR_LOAD_IN_PROGRESS until it has a producer-id block from the controller.
  const r = await call(22, 1, Buffer.concat([i16(-1), i32(60000)]));
  r.i32(); // throttle_time_ms
  const err = r.i16();
  if (err !== 0) fail(`producer id manager not ready (error ${err})`);
}

sock.on('connect', async () => {
  let summary = await metadata();
  if (warm) {
    await findCoordinator('parley-warmup', 0);
    await findCoordinator('parley-warmup', 1);
    await initProducerId();
    summary += ', group+txn coordinators and producer ids ready';
  }
  clearTimeout(timer);
  sock.removeAllListeners('close');
  sock.destroy();
  process.stdout.write(`${summary}\n`);
  process.exit(0);
});
