#!/usr/bin/env node
// Dependency-free CQL readiness probe (native protocol v4):
// STARTUP, then `SELECT release_version FROM system.local`.
// Usage: node cql-ping.mjs [host] [port] [timeoutMs]
// Prints the release_version and exits 0 on success; exits 1 otherwise.
import net from 'node:net';

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 9042);
const timeoutMs = Number(process.argv[4] || 5000);

const OP = { ERROR: 0x00, STARTUP: 0x01, READY: 0x02, AUTHENTICATE: 0x03, QUERY: 0x07, RESULT: 0x08 };

function frame(stream, opcode, body) {
  const h = Buffer.alloc(9);
  h.writeUInt8(0x04, 0); // request, protocol v4
  h.writeUInt8(0, 1);
  h.writeInt16BE(stream, 2);
  h.writeUInt8(opcode, 4);
  h.writeInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}
const str = (s) => { const b = Buffer.from(s, 'utf8'); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
const longStr = (s) => { const b = Buffer.from(s, 'utf8'); const l = Buffer.alloc(4); l.writeInt32BE(b.length); return Buffer.concat([l, b]); };

function startupBody() {
  const n = Buffer.alloc(2); n.writeUInt16BE(1);
  return Buffer.concat([n, str('CQL_VERSION'), str('3.0.0')]);
}
function queryBody(q) {
  const tail = Buffer.alloc(3); tail.writeUInt16BE(0x0001, 0); tail.writeUInt8(0, 2); // consistency ONE, no flags
  return Buffer.concat([longStr(q), tail]);
}

function fail(msg) { process.stderr.write(`cql-ping: ${msg}\n`); process.exit(1); }

// Rows result with one text column -> first cell as string.
function firstCell(body) {
  let o = 0;
  const kind = body.readInt32BE(o); o += 4;
  if (kind !== 2) return null;
  const flags = body.readInt32BE(o); o += 4;
  const cols = body.readInt32BE(o); o += 4;
  const skipStr = () => { const l = body.readUInt16BE(o); o += 2 + l; };
  if (flags & 0x0002) { const l = body.readInt32BE(o); o += 4 + Math.max(l, 0); }
  if (!(flags & 0x0004)) {
    if (flags & 0x0001) { skipStr(); skipStr(); }
    for (let i = 0; i < cols; i++) {
      if (!(flags & 0x0001)) { skipStr(); skipStr(); }
      skipStr(); // column name
      const t = body.readUInt16BE(o); o += 2;
      if (t === 0x0000) skipStr(); // custom type
      else if (t >= 0x0020) return 'ok'; // collection/udt: don't bother
    }
  }
  const rows = body.readInt32BE(o); o += 4;
  if (rows < 1) return null;
  const l = body.readInt32BE(o); o += 4;
  return l < 0 ? '' : body.subarray(o, o + l).toString('utf8');
}

const sock = net.connect({ host, port });
const timer = setTimeout(() => { sock.destroy(); fail(`timeout after ${timeoutMs}ms`); }, timeoutMs);
let buf = Buffer.alloc(0);
sock.on('error', (e) => { clearTimeout(timer); fail(e.code || e.message); });
sock.on('connect', () => sock.write(frame(0, OP.STARTUP, startupBody())));
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 9) {
    const len = buf.readInt32BE(5);
    if (buf.length < 9 + len) return;
    const opcode = buf.readUInt8(4);
    const body = buf.subarray(9, 9 + len);
    buf = buf.subarray(9 + len);
    if (opcode === OP.ERROR) {
      clearTimeout(timer); sock.destroy();
      fail(`server error 0x${body.readInt32BE(0).toString(16)}: ${body.subarray(6, 6 + body.readUInt16BE(4)).toString('utf8')}`);
    } else if (opcode === OP.READY) {
      sock.write(frame(1, OP.QUERY, queryBody('SELECT release_version FROM system.local')));
    } else if (opcode === OP.AUTHENTICATE) {
      clearTimeout(timer); sock.destroy(); fail('server requires authentication');
    } else if (opcode === OP.RESULT) {
      clearTimeout(timer); sock.destroy();
      const v = firstCell(body);
      if (v === null) fail('unexpected result');
      process.stdout.write(`${v}\n`);
      process.exit(0);
    }
  }
});
