// Shared helpers for the ops checks: walking the Grafana dashboard, substituting its variables,
// and reading metric names out of PromQL without a full parser.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DASHBOARD = path.join(ROOT, 'grafana/dashboards/closewatch.json');
export const RULES = path.join(ROOT, 'grafana/alerts/closewatch.rules.yml');

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function readYaml(file) {
  return yaml.load(fs.readFileSync(file, 'utf8'));
}

/** Every non-row panel, whether at the top level or inside a (collapsed) row. */
export function panelsOf(dashboard) {
  const out = [];
  for (const p of dashboard.panels ?? []) {
    if (p.type === 'row') {
      for (const inner of p.panels ?? []) out.push(inner);
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Every PromQL expression of the dashboard: {where, expr, instant}. */
export function expressionsOf(dashboard) {
  const out = [];
  for (const p of panelsOf(dashboard)) {
    for (const t of p.targets ?? []) {
      out.push({ where: `panel "${p.title}" (id ${p.id}) query ${t.refId}`, expr: t.expr, instant: !!t.instant, panel: p });
    }
  }
  return out;
}

/** The `label_values(METRIC_SELECTOR, LABEL)` queries of the query variables. */
export function variableQueriesOf(dashboard) {
  const out = [];
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(q ?? '');
    out.push({ name: v.name, query: q, selector: m?.[1], label: m?.[2] });
  }
  return out;
}

/**
 * Replaces Grafana's variables the way Grafana would for a query: $instance/$route with the
 * given regexes (Grafana's "All" is allValue ".*"), $__rate_interval/$__range/$__interval with
 * durations.
 */
export function substitute(expr, values) {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a, b) => {
    const name = a ?? b;
    if (!(name in values)) throw new Error(`no value for variable $${name} in: ${expr}`);
    return values[name];
  });
}

/** Variable names referenced by an expression. */
export function variablesIn(expr) {
  const names = new Set();
  for (const m of expr.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) names.add(m[1] ?? m[2]);
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left',
  'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/**
 * Metric names used in a PromQL expression. Strings, label matchers, ranges and grouping
 * label lists are blanked first; then every identifier not followed by "(" (a function or
 * aggregation) and not a keyword is a metric name. Numbers and durations are skipped whole.
 */
export function metricNames(expr) {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set();
  const token = /(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)/g;
  let m;
  while ((m = token.exec(s)) !== null) {
    if (m[1] !== undefined) continue;
    const id = m[2];
    const rest = s.slice(token.lastIndex);
    if (/^\s*\(/.test(rest)) continue;
    if (KEYWORDS.has(id.toLowerCase())) continue;
    names.add(id);
  }
  return names;
}

/** Selectors `metric{matchers}` in an expression: [{metric, matchers}] (matchers as raw text). */
export function selectorsOf(expr) {
  const out = [];
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, (str) => str.replace(/[{}]/g, '_'));
  for (const m of s.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    // recover the matcher text from the original expression (same offsets)
    const start = m.index + m[0].indexOf('{') + 1;
    out.push({ metric: m[1], matchers: expr.slice(start, start + m[2].length) });
  }
  // bare metric names (no braces) are selectors without matchers
  const braced = new Set(out.map((o) => o.metric));
  for (const name of metricNames(expr)) if (!braced.has(name)) out.push({ metric: name, matchers: '' });
  return out;
}

/** Recording rule names of a Prometheus rule file. */
export function recordingRules(rulesFile = RULES) {
  const doc = readYaml(rulesFile);
  const names = new Set();
  for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.record) names.add(r.record);
  return names;
}

/** Alert names of a Prometheus rule file. */
export function alertRules(rulesFile = RULES) {
  const doc = readYaml(rulesFile);
  const names = [];
  for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.alert) names.push(r.alert);
  return names;
}

/** Parses Prometheus text exposition: Map(metric name → Set of label names). */
export function parseExposition(text) {
  const metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = metrics.get(m[1]) ?? new Set();
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(l[1]);
    metrics.set(m[1], labels);
  }
  return metrics;
}

/** Collects failures and prints a one-line result per check. */
export class Report {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.passes = 0;
  }
  check(ok, what) {
    if (ok) this.passes++;
    else this.failures.push(what);
    return ok;
  }
  fail(what) {
    this.failures.push(what);
  }
  finish() {
    for (const f of this.failures) console.log(`  FAIL ${f}`);
    console.log(`${this.name}: ${this.passes} passed, ${this.failures.length} failed`);
    process.exitCode = this.failures.length ? 1 : 0;
    return this.failures.length === 0;
  }
}
