// Structural checks of grafana/dashboards/closewatch.json that need no Prometheus (also: rate
// panels carry a rate unit, every selector filters $job, $namespace and $instance):
//   node .ci/ops/check-dashboard.mjs [--metrics SCRAPE.txt]
// With --metrics (a scrape of closewatch's /metrics), also: every metric a query names is
// exported by the proxy (or is a recording rule of grafana/alerts/closewatch.rules.yml, or
// Prometheus's own ALERTS), and every selector of a metric with a `route` label filters on
// route=~"$route". Exit status 1 on any failure.
import fs from 'node:fs';
import {
  DASHBOARD, Report, expressionsOf, metricNames, panelsOf, parseExposition, readJson,
  recordingRules, selectorsOf, variableQueriesOf, variablesIn,
} from './lib.mjs';

const args = process.argv.slice(2);
const metricsFile = args[args.indexOf('--metrics') + 1] && args.includes('--metrics') ? args[args.indexOf('--metrics') + 1] : null;

const r = new Report('dashboard structure');
const d = readJson(DASHBOARD);
const DS_UID = '${datasource}';
const ALLOWED_VARS = new Set(['job', 'namespace', 'instance', 'route', '__rate_interval', '__range']);
const PANEL_TYPES = new Set(['timeseries', 'stat', 'table']);
const PROMETHEUS_BUILTINS = new Set(['ALERTS']);
const RATE_UNITS = new Set(['ops', 'reqps', 'Bps', 'binBps', 'percentunit', 's']);

// Dashboard-level
r.check(d.uid === 'closewatch', `dashboard uid is "closewatch" (got ${d.uid})`);
r.check(typeof d.title === 'string' && d.title.length > 0, 'dashboard has a title');
r.check(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 36 && d.schemaVersion <= 39,
  `schemaVersion is one Grafana 10.x writes (36..39), got ${d.schemaVersion}`);
r.check(d.id === null || d.id === undefined, 'dashboard id is null (importable anywhere)');
r.check(!('__inputs' in d), 'no __inputs: the data source is a variable, so the JSON imports as is');

// Variables
const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
r.check(vars.datasource?.type === 'datasource' && vars.datasource?.query === 'prometheus',
  'variable $datasource is a Prometheus data source variable');
for (const name of ['job', 'namespace', 'instance', 'route']) {
  const v = vars[name];
  r.check(v?.type === 'query' && v.includeAll === true && v.multi === true && v.allValue === '.*',
    `variable $${name} is a multi-value query variable with All = .*`);
  r.check(v?.datasource?.uid === DS_UID, `variable $${name} queries \${datasource}`);
}
for (const q of variableQueriesOf(d)) {
  r.check(!!q.selector, `variable $${q.name} uses label_values(METRIC, LABEL): ${q.query}`);
}

// Panels and layout
const ids = new Set();
const occupied = new Map();
for (const p of d.panels ?? []) {
  const all = p.type === 'row' ? [p, ...(p.panels ?? [])] : [p];
  for (const q of all) {
    r.check(Number.isInteger(q.id) && !ids.has(q.id), `panel "${q.title}" has a unique integer id (${q.id})`);
    ids.add(q.id);
    const g = q.gridPos;
    r.check(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0,
      `panel "${q.title}" gridPos fits the 24-column grid: ${JSON.stringify(g)}`);
  }
  if (p.type === 'row' && p.collapsed) continue;
  // overlap check for the laid-out (expanded) panels
  const g = p.gridPos;
  if (!g) continue;
  for (let x = g.x; x < g.x + g.w; x++) {
    for (let y = g.y; y < g.y + g.h; y++) {
      const key = `${x},${y}`;
      if (occupied.has(key)) {
        r.fail(`panel "${p.title}" overlaps panel "${occupied.get(key)}" at ${key}`);
        x = g.x + g.w; break;
      }
      occupied.set(key, p.title);
    }
  }
}
const rows = (d.panels ?? []).filter((p) => p.type === 'row').map((p) => p.title);
for (const want of ['Overview', 'Close codes', 'Abnormal closures', 'Sessions', 'Upgrades and upstream', 'Traffic', 'Runtime', 'Why']) {
  r.check(rows.some((t) => t.startsWith(want)), `a row titled "${want}…" exists`);
}

for (const p of panelsOf(d)) {
  const where = `panel "${p.title}" (id ${p.id})`;
  r.check(PANEL_TYPES.has(p.type), `${where}: type ${p.type} is one of ${[...PANEL_TYPES]}`);
  r.check(typeof p.description === 'string' && p.description.length >= 120
    && /\n\nWhen it looks wrong: \S/.test(p.description),
    `${where}: description says what it shows and, after "When it looks wrong:", what to do`);
  r.check(p.datasource?.uid === DS_UID && p.datasource?.type === 'prometheus', `${where}: datasource is \${datasource}`);
  r.check(Array.isArray(p.targets) && p.targets.length > 0, `${where}: has queries`);
  const refIds = new Set();
  for (const t of p.targets ?? []) {
    r.check(t.refId && !refIds.has(t.refId), `${where}: refId ${t.refId} is unique`);
    refIds.add(t.refId);
    r.check(t.datasource?.uid === DS_UID, `${where} query ${t.refId}: datasource is \${datasource}`);
    r.check(typeof t.expr === 'string' && t.expr.trim().length > 0, `${where} query ${t.refId}: has an expression`);
  }
  // Grafana's rate units say "per second" on the axis and scale (1.2K ops/s), where "short" says
  // nothing: a graph or stat of a rate() is in ops, reqps (HTTP requests), Bps (bytes) or, for a
  // share or a duration computed from rates, percentunit or s.
  if (p.type !== 'table' && (p.targets ?? []).some((t) => /\brate\(/.test(t.expr ?? ''))) {
    const unit = p.fieldConfig?.defaults?.unit;
    r.check(RATE_UNITS.has(unit), `${where}: a rate panel's unit is one of ${[...RATE_UNITS]} (got ${unit})`);
  }
}

// Expressions
const recorded = recordingRules();
let exported = null;
if (metricsFile) exported = parseExposition(fs.readFileSync(metricsFile, 'utf8'));
const allExprs = [
  ...expressionsOf(d),
  ...variableQueriesOf(d).filter((q) => q.selector).map((q) => ({ where: `variable $${q.name}`, expr: q.selector })),
];
const seenMetrics = new Set();
for (const { where, expr } of allExprs) {
  for (const v of variablesIn(expr)) r.check(ALLOWED_VARS.has(v), `${where}: variable $${v} is defined (${[...ALLOWED_VARS]})`);
  let depth = 0;
  for (const c of expr) { if (c === '(') depth++; if (c === ')') depth--; if (depth < 0) break; }
  r.check(depth === 0, `${where}: parentheses balance`);
  for (const m of expr.matchAll(/\[([^\]]*)\]/g)) {
    r.check(m[1] === '$__rate_interval' || m[1] === '$__range',
      `${where}: range [${m[1]}] is [$__rate_interval] (or [$__range] for a whole-range table)`);
  }
  for (const { metric, matchers } of selectorsOf(expr)) {
    seenMetrics.add(metric);
    if (exported) {
      r.check(exported.has(metric) || recorded.has(metric) || PROMETHEUS_BUILTINS.has(metric),
        `${where}: metric ${metric} is exported by closewatch's /metrics (or is a recording rule of closewatch.rules.yml)`);
    }
    if (where.startsWith('variable ')) continue; // label_values() lists what exists: no filters needed
    if (metric.startsWith('closewatch:alert_threshold:')) continue; // constants, no labels
    if (metric === 'ALERTS') {
      r.check(['job', 'namespace', 'instance', 'route'].every((v) => new RegExp(`${v}=~"\\$${v}\\|"`).test(matchers)),
        `${where}: ALERTS filtered with job=~"$job|", namespace=~"$namespace|", instance=~"$instance|" and route=~"$route|"`);
      continue;
    }
    for (const v of ['job', 'namespace', 'instance']) {
      r.check(new RegExp(`${v}=~"\\$${v}"`).test(matchers), `${where}: ${metric}{…} filters ${v}=~"$${v}"`);
    }
    let hasRoute;
    if (recorded.has(metric)) hasRoute = true; // closewatch:* rates are kept per (job, instance, route)
    else if (exported) hasRoute = exported.get(metric)?.has('route') ?? false;
    else hasRoute = metric.startsWith('closewatch_') && !['closewatch_close_code_info', 'closewatch_requests_rejected_total',
      'closewatch_drain_phase', 'closewatch_drain_sessions_total'].includes(metric);
    if (hasRoute) {
      r.check(/route=~"\$route"/.test(matchers), `${where}: ${metric}{…} has a route label, so it filters route=~"$route"`);
    }
  }
  for (const name of metricNames(expr)) seenMetrics.add(name);
}
// Every query names at least one metric
for (const { where, expr } of allExprs) r.check(metricNames(expr).size > 0, `${where}: names a metric`);

console.log(`dashboard: ${panelsOf(d).length} panels, ${expressionsOf(d).length} queries, ${seenMetrics.size} metrics named`
  + (exported ? `, checked against a scrape of ${exported.size} metric names` : ' (no scrape given: metric names not checked)'));
r.finish();
