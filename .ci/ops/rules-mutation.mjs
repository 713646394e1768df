// Proves the "stays quiet" unit tests in grafana/alerts/closewatch.rules.test.yml can fail:
//   node .ci/ops/rules-mutation.mjs
// A quiet test passes trivially if its input could never fire the alert anyway. So the rules
// are mutated, and promtool must then FAIL exactly the tests that guard what was removed:
//   - absolute floors (closewatch:alert_threshold:*_min_rate) set to 0
//       → every "… quiet on a tiny absolute count" test fails;
//   - ratio thresholds and the spike factor set to 0.001
//       → every "… quiet on a steady high baseline" test fails;
//   - every `for:` set to 0s
//       → "closewatch down quiet on a single failed scrape" fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, RULES, Report, readYaml } from './lib.mjs';

const TESTS = path.join(ROOT, 'grafana/alerts/closewatch.rules.test.yml');
const testNames = readYaml(TESTS).tests.map((t) => t.name);
const promtool = process.env.PROMTOOL ?? 'promtool';
const r = new Report('rules mutation');

function failingTests(rulesText) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closewatch-mutation-'));
  try {
    fs.writeFileSync(path.join(dir, 'closewatch.rules.yml'), rulesText);
    fs.copyFileSync(TESTS, path.join(dir, 'closewatch.rules.test.yml'));
    const res = spawnSync(promtool, ['test', 'rules', path.join(dir, 'closewatch.rules.test.yml')], { encoding: 'utf8' });
    const out = res.stdout + res.stderr;
    return new Set([...out.matchAll(/^\s*name: (.*),\s*$/gm)].map((m) => m[1]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function setConstants(text, namePattern, value) {
  let n = 0;
  const out = text.replace(new RegExp(`(- record: (?:${namePattern})\\n\\s*expr: )vector\\([0-9.]+\\)`, 'g'), (whole, lead) => {
    n++;
    return `${lead}vector(${value})`;
  });
  if (n === 0) throw new Error(`no threshold constant matches ${namePattern}`);
  return out;
}

const rules = fs.readFileSync(RULES, 'utf8');
const baseline = failingTests(rules);
r.check(baseline.size === 0, `the unmutated rules pass every test (failing: ${[...baseline].join('; ') || 'none'})`);

const mutations = [
  {
    what: 'absolute floors set to 0',
    text: setConstants(rules, 'closewatch:alert_threshold:\\w+_min_rate', 0),
    mustFail: testNames.filter((n) => n.endsWith('quiet on a tiny absolute count')),
  },
  {
    what: 'ratio thresholds and spike factor set to 0.001',
    text: setConstants(rules, 'closewatch:alert_threshold:\\w+_(?:ratio|factor)', 0.001),
    mustFail: testNames.filter((n) => n.endsWith('quiet on a steady high baseline')),
  },
  {
    what: '`for` durations set to 0s',
    text: rules.replace(/^(\s*for:\s*)\S+\s*$/gm, '$10s'),
    mustFail: testNames.filter((n) => n.endsWith('quiet on a single failed scrape')),
  },
];
for (const m of mutations) {
  r.check(m.mustFail.length > 0, `${m.what}: there are tests that guard it`);
  const failed = failingTests(m.text);
  for (const name of m.mustFail) r.check(failed.has(name), `${m.what}: test "${name}" fails (so it really guards it)`);
}
r.finish();
