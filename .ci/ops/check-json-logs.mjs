// Checks closewatch's JSON log lines (config/logback-json.xml) in a captured stdout:
//   node .ci/ops/check-json-logs.mjs FILE
// Every line starting with "{" must be one JSON object; every close line (event
// "websocket.close") must carry the plain close line's fields with the right JSON types; a
// "suppressed N lines" summary (event "websocket.close.suppressed") its own fields.
import fs from 'node:fs';
import { Report } from './lib.mjs';

const file = process.argv[2];
const r = new Report('JSON logs');
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{'));
const STANDARD = { '@timestamp': 'string', level: 'string', logger_name: 'string', thread_name: 'string', message: 'string', app: 'string' };
const CLOSE = {
  event: 'string', session: 'string', route: 'string', client: 'string', upstream: 'string', code: 'string',
  name: 'string', category: 'string', initiator: 'string', clean: 'boolean', cause: 'string', reason: 'string',
  duration_ms: 'number', bytes_c2u: 'number', bytes_u2c: 'number', remedy: 'string',
};
const SUPPRESSED = { event: 'string', category: 'string' };

let parsed = 0;
let closes = 0;
let suppressed = 0;
const badLines = [];
const codes = new Set();
for (const line of lines) {
  let o;
  try {
    o = JSON.parse(line);
    parsed++;
  } catch (e) {
    badLines.push(line.slice(0, 120));
    continue;
  }
  const want = { ...STANDARD, ...(o.event === 'websocket.close' ? CLOSE : o.event === 'websocket.close.suppressed' ? SUPPRESSED : {}) };
  const wrong = Object.entries(want).filter(([k, t]) => typeof o[k] !== t).map(([k, t]) => `${k} (want ${t}, got ${typeof o[k]})`);
  if (o.event === 'websocket.close') {
    closes++;
    codes.add(o.code);
    if (o.logger_name !== 'closewatch.close') wrong.push(`logger_name ${o.logger_name}`);
  }
  if (o.event === 'websocket.close.suppressed') suppressed++;
  if (wrong.length) badLines.push(`${o.event ?? o.logger_name}: ${wrong.join(', ')}`);
}
r.check(lines.length > 0, `the log has JSON lines (${lines.length})`);
r.check(parsed === lines.length, `every JSON line parses (${parsed}/${lines.length})`);
r.check(closes >= 20, `close lines present (${closes}, codes ${[...codes].sort().join(' ')})`);
r.check(codes.has('1006'), 'the 1006 close lines are there');
r.check(badLines.length === 0, `every line has its fields with JSON types${badLines.length ? ': ' + badLines.slice(0, 5).join(' | ') : ''}`);
console.log(`JSON logs: ${closes} close lines, ${suppressed} suppressed-summary lines, ${lines.length} JSON lines in all`);
r.finish();
