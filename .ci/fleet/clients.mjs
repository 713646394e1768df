// The fleet proof's WebSocket clients: N clients of the npm `ws` package in one process, each
// sending sequence-numbered text messages continuously through the load balancer to the echo
// upstream and checking every echo (in order, exactly once), reconnecting with exponential
// back-off and full jitter whenever its session ends.
//
//   node .ci/fleet/clients.mjs --url ws://127.0.0.1:PORT/ --clients 300 --status FILE --report FILE
//
// Messages an ended session had sent but not yet seen echoed are sent again, in order, on the
// next session (as an application with acknowledgements would): the check is that every
// sequence number is echoed exactly once and in order, so a lost echo shows up as a gap and a
// repeated one as a duplicate. Writes `key=value` status lines to --status every 200 ms; on
// SIGUSR2 it stops sending, waits (at most 10 s) for the echoes of what it sent, closes every
// session with 1000, writes the report (JSON) and exits 0.
import { createRequire } from 'node:module';
import { writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../src/test/node/package.json'));
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const URL_ = args.url;
const N = Number(args.clients ?? 300);
const INTERVAL_MS = Number(args['interval-ms'] ?? 200);
const WINDOW = 64; // at most this many messages in flight per client
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2000;

const closes = [];   // { t, client, code }
const attempts = []; // t of every connection attempt after the first
const errors = [];   // { t, client, kind, detail }
let opens = 0;
let duplicates = 0;
let gaps = 0;
let stopping = false;

class Client {
  constructor(id) {
    this.id = id;
    this.nextSeq = 0;   // next sequence number to send
    this.expected = 0;  // next echo expected; [expected, nextSeq) are in flight
    this.failures = 0;  // consecutive failed attempts, for the back-off
    this.ws = null;
    this.open = false;
    this.connect(false);
  }

  connect(again) {
    if (again) attempts.push(Date.now());
    const ws = new WebSocket(URL_, { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.ws = ws;
    ws.on('open', () => {
      opens++;
      this.open = true;
      this.failures = 0;
      // what the last session sent but never saw echoed, again and in order
      for (let s = this.expected; s < this.nextSeq; s++) ws.send(this.text(s));
    });
    ws.on('message', (data) => {
      const m = /^m (\d+) (\d+)$/.exec(data.toString());
      if (!m || Number(m[1]) !== this.id) {
        errors.push({ t: Date.now(), client: this.id, kind: 'foreign_echo', detail: data.toString().slice(0, 80) });
        return;
      }
      const seq = Number(m[2]);
      if (seq === this.expected) this.expected++;
      else if (seq < this.expected) duplicates++;
      else { gaps++; errors.push({ t: Date.now(), client: this.id, kind: 'gap', detail: `expected ${this.expected}, got ${seq}` }); this.expected = seq + 1; }
    });
    ws.on('unexpected-response', (req, res) => {
      errors.push({ t: Date.now(), client: this.id, kind: 'http_status', detail: String(res.statusCode) });
      req.destroy();
    });
    ws.on('error', (e) => {
      errors.push({ t: Date.now(), client: this.id, kind: 'error', detail: e.code || e.message });
    });
    ws.on('close', (code) => {
      const wasOpen = this.open;
      this.open = false;
      if (stopping) return; // the client's own end of the run (1000)
      if (wasOpen) closes.push({ t: Date.now(), client: this.id, code });
      else this.failures++;
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.failures);
      setTimeout(() => this.connect(true), ceiling / 2 + Math.random() * ceiling / 2);
    });
  }

  text(seq) {
    return `m ${this.id} ${seq}`;
  }

  tick() {
    if (stopping || !this.open || this.nextSeq - this.expected >= WINDOW) return;
    this.ws.send(this.text(this.nextSeq++));
  }
}

const clients = [];
for (let i = 0; i < N; i++) {
  clients.push(new Client(i));
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
const ticker = setInterval(() => clients.forEach((c) => c.tick()), INTERVAL_MS);

function status() {
  const connected = clients.filter((c) => c.open).length;
  const sent = clients.reduce((a, c) => a + c.nextSeq, 0);
  const echoed = clients.reduce((a, c) => a + c.expected, 0);
  return { connected, sent, echoed, opens, closes: closes.length, errors: errors.length };
}
const statusTimer = setInterval(() => {
  const s = status();
  writeFileSync(args.status + '.tmp', Object.entries(s).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  renameSync(args.status + '.tmp', args.status);
}, 200);

process.on('SIGUSR2', async () => {
  stopping = true;
  clearInterval(ticker);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && clients.some((c) => c.expected < c.nextSeq)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const s = status();
  const report = {
    at: Date.now(), clients: N, ...s, duplicates, gaps,
    unechoed: clients.reduce((a, c) => a + (c.nextSeq - c.expected), 0),
    closes, attempts, errors,
  };
  clearInterval(statusTimer);
  // a normal end (1000) for every session, so the proxies record no abnormal closure
  await Promise.all(clients.map((c) => new Promise((resolve) => {
    if (!c.open) return resolve();
    c.ws.once('close', resolve);
    c.ws.close(1000, 'done');
    setTimeout(resolve, 3000);
  })));
  writeFileSync(args.report, JSON.stringify(report));
  process.exit(0);
});
