// Checks closewatch's JSON log lines (config/logback-json.xml) in a captured stdout against the
// official Elastic Common Schema definitions vendored in .ci/ecs/ecs_flat.yml (see .ci/ecs/README.md):
//   node .ci/ops/check-json-logs.mjs FILE
//   node .ci/ops/check-json-logs.mjs --self-test     (the check must fail on broken lines)
// Every line starting with "{" must be one JSON object whose every field (nested objects
// flattened to dotted names) is an ECS field with a value of the field's type (keyword: string,
// long: integer, ip: an IP literal, date: ISO-8601, ...; an array only where ECS normalizes the
// field to one; one of its allowed_values where it has them), or lies in the custom namespace
// closewatch.* (string, number or boolean). Close lines (event.action "websocket.close") must
// carry the close line's fields, typed: closewatch.code a number, event.duration an integer (ns).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Report, ROOT, readYaml } from './lib.mjs';

const ECS_FLAT = path.join(ROOT, '.ci/ecs/ecs_flat.yml');
const CUSTOM = 'closewatch.';

export function loadEcs() {
  const flat = readYaml(ECS_FLAT);
  const fields = new Map();
  for (const [name, def] of Object.entries(flat)) {
    fields.set(name, {
      type: def.type,
      array: (def.normalize ?? []).includes('array'),
      allowed: def.allowed_values ? new Set(def.allowed_values.map((v) => v.name)) : null,
    });
  }
  for (const name of fields.keys()) {
    if (name.startsWith(CUSTOM)) throw new Error(`ECS defines ${name}: ${CUSTOM} is no custom namespace`);
  }
  return fields;
}

function flatten(prefix, o, out) {
  for (const [k, v] of Object.entries(o)) {
    const name = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(name + '.', v, out);
    else if (out.has(name)) throw new Error(`field ${name} twice (dotted and nested)`);
    else out.set(name, v);
  }
  return out;
}

function typeOk(type, v) {
  switch (type) {
    case 'keyword': case 'constant_keyword': case 'wildcard': case 'match_only_text': case 'text':
      return typeof v === 'string';
    case 'long': case 'integer': case 'short': case 'byte': case 'unsigned_long':
      return Number.isInteger(v);
    case 'float': case 'half_float': case 'double': case 'scaled_float':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'ip':
      return typeof v === 'string' && net.isIP(v) !== 0;
    case 'date':
      return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v));
    default:
      return false;
  }
}

/** Every problem of one parsed line against the ECS fields; [] when it conforms. */
export function validate(ecs, line) {
  const problems = [];
  for (const [name, value] of flatten('', line, new Map())) {
    if (name.startsWith(CUSTOM)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) problems.push(`${name}: custom field must be a string, number or boolean`);
      continue;
    }
    const f = ecs.get(name);
    if (!f) {
      problems.push(`${name}: not an ECS field and not under ${CUSTOM}`);
      continue;
    }
    if (Array.isArray(value) && !f.array) problems.push(`${name}: an array, but ECS does not normalize it to one`);
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!typeOk(f.type, v)) problems.push(`${name}: ${JSON.stringify(v)} is no ECS ${f.type}`);
      else if (f.allowed && !f.allowed.has(v)) problems.push(`${name}: ${JSON.stringify(v)} is not an allowed value`);
    }
  }
  return problems.sort();
}

const CLOSE = {
  '@timestamp': 'string', 'log.level': 'string', 'log.logger': 'string', message: 'string', 'ecs.version': 'string',
  'event.action': 'string', 'event.duration': 'number', 'client.ip': 'string', 'client.port': 'number',
  'closewatch.session': 'string', 'closewatch.route': 'string', 'closewatch.name': 'string',
  'closewatch.category': 'string', 'closewatch.initiator': 'string', 'closewatch.clean': 'boolean',
  'closewatch.cause': 'string', 'closewatch.reason': 'string', 'closewatch.bytes_c2u': 'number',
  'closewatch.bytes_u2c': 'number', 'closewatch.remedy': 'string',
};

const OPTIONAL_IN_CLOSE = new Set(['client.port']);

function checkLines(ecs, text, r) {
  const lines = text.split('\n').filter((l) => l.startsWith('{'));
  let parsed = 0;
  let closes = 0;
  let suppressed = 0;
  const bad = [];
  const codes = new Set();
  for (const line of lines) {
    let o;
    try {
      o = JSON.parse(line);
      parsed++;
    } catch (e) {
      bad.push(`does not parse: ${line.slice(0, 120)}`);
      continue;
    }
    const problems = validate(ecs, o);
    if (o['event.action'] === 'websocket.close') {
      closes++;
      codes.add(o['closewatch.code']);
      for (const [k, t] of Object.entries(CLOSE)) {
        // A client address from a trusted X-Forwarded-For or PROXY header may carry no port.
        if (OPTIONAL_IN_CLOSE.has(k) && !(k in o)) continue;
        if (typeof o[k] !== t) problems.push(`${k} (want ${t}, got ${typeof o[k]})`);
      }
      if (o['log.logger'] !== 'closewatch.close') problems.push(`log.logger ${o['log.logger']}`);
      if ('closewatch.code' in o && !Number.isInteger(o['closewatch.code'])) problems.push('closewatch.code is no integer');
    }
    if (o['event.action'] === 'websocket.close.suppressed') suppressed++;
    if (problems.length) bad.push(`${o['event.action'] ?? o['log.logger']}: ${problems.join(', ')}`);
  }
  r.check(lines.length > 0, `the log has JSON lines (${lines.length})`);
  r.check(parsed === lines.length, `every JSON line parses (${parsed}/${lines.length})`);
  r.check(bad.length === 0, `every field of every line is an ECS ${ecs.size > 0 ? '' : '(none loaded) '}field of its type or closewatch.*${bad.length ? ': ' + bad.slice(0, 5).join(' | ') : ''}`);
  return { lines: lines.length, closes, suppressed, codes };
}

function selfTest(ecs) {
  // A conforming close line, then the same line broken in one way at a time: each must be caught.
  const good = {
    '@timestamp': '2026-01-02T03:04:05.123Z', 'log.level': 'WARN', 'log.logger': 'closewatch.close', message: 'm',
    'ecs.version': '9.4.0', 'event.kind': 'event', 'event.action': 'websocket.close', 'event.category': ['network', 'session'],
    'event.duration': 1500000000, 'client.ip': '127.0.0.1', 'client.port': 50123, 'closewatch.code': 1006,
  };
  const r = new Report('JSON logs self-test');
  r.check(validate(ecs, good).length === 0, `a conforming line passes (${validate(ecs, good).join(', ')})`);
  const mutations = {
    'client.port as a string': { 'client.port': '50123' },
    'event.duration not an integer': { 'event.duration': 1.5 },
    'client.ip not an IP': { 'client.ip': 'localhost' },
    'event.kind not an allowed value': { 'event.kind': 'websocket' },
    '@timestamp not a date': { '@timestamp': 'yesterday' },
    'the old top-level string event': { event: 'websocket.close' },
    'an unknown top-level field': { code: '1006' },
  };
  for (const [what, change] of Object.entries(mutations)) {
    const problems = validate(ecs, { ...good, ...change });
    r.check(problems.length === 1, `caught: ${what} (${problems.join(', ') || 'not caught'})`);
  }
  return r.finish();
}

const ecs = loadEcs();
if (process.argv[2] === '--self-test') {
  selfTest(ecs);
} else {
  const r = new Report('JSON logs');
  const s = checkLines(ecs, fs.readFileSync(process.argv[2], 'utf8'), r);
  r.check(s.closes >= 20, `close lines present (${s.closes}, codes ${[...s.codes].sort().join(' ')})`);
  r.check(s.codes.has(1006), 'the 1006 close lines are there, closewatch.code a number');
  console.log(`JSON logs: ${s.closes} close lines, ${s.suppressed} suppressed-summary lines, ${s.lines} JSON lines in all, checked against ${ecs.size} ECS fields`);
  r.finish();
}
