// The live proof, against a Prometheus that scrapes a running `closewatch demo` every second and
// evaluates the (fast) closewatch rules every second:
//   node .ci/ops/prove.mjs --prometheus URL --metrics URL --storm-at EPOCH_SECONDS
//                          [--fire-timeout SECONDS] [--scrape-out FILE]
// 1. quiet baseline: until the storm, WebSocketAbnormalClosureSpike never fires (and its
//    threshold series exists, so "quiet" means something);
// 2. storm: it goes to firing within --fire-timeout seconds of the storm's start
//    (Prometheus API /api/v1/alerts), with its runbook_url, the top initiator and the catalog's 1006 remedy in
//    its annotations;
// 3. every PromQL expression of the dashboard, variables substituted (both "All" and the one
//    job, namespace, instance and route the demo has), returns data; every variable query lists them.
// The scrape of /metrics taken after the storm is written to --scrape-out for the metric-name
// check (check-dashboard.mjs --metrics).
import fs from 'node:fs';
import { DASHBOARD, Report, expressionsOf, parseExposition, readJson, substitute, variableQueriesOf } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const PROM = arg('prometheus');
const METRICS = arg('metrics');
const STORM_AT = Number(arg('storm-at'));
const FIRE_TIMEOUT = Number(arg('fire-timeout', '90'));
const SCRAPE_OUT = arg('scrape-out');
const ALERT = 'WebSocketAbnormalClosureSpike';
if (!PROM || !METRICS || !STORM_AT) {
  console.error('usage: prove.mjs --prometheus URL --metrics URL --storm-at EPOCH_SECONDS [--fire-timeout S] [--scrape-out FILE]');
  process.exit(2);
}

const r = new Report('live proof');
const now = () => Date.now() / 1000;
const sleep = (s) => new Promise((res) => setTimeout(res, s * 1000));
const log = (msg) => console.log(`[${(now() - STORM_AT >= 0 ? '+' : '') + (now() - STORM_AT).toFixed(1)}s vs storm] ${msg}`);

async function api(path, params = {}) {
  const url = new URL(path, PROM);
  for (const [k, v] of Object.entries(params)) {
    for (const one of [].concat(v)) url.searchParams.append(k, one);
  }
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ status: 'error', error: `HTTP ${res.status}, not JSON` }));
  if (body.status !== 'success') throw new Error(`${url.pathname}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
  return body.data;
}
const query = (q) => api('/api/v1/query', { query: q });
const spikeAlerts = async () => (await api('/api/v1/alerts')).alerts.filter((a) => a.labels.alertname === ALERT);

// 0. Prometheus scrapes closewatch
let up = false;
for (let i = 0; i < 60 && !up; i++) {
  try {
    const targets = (await api('/api/v1/targets')).activeTargets.filter((t) => t.labels.job === 'closewatch');
    up = targets.length > 0 && targets.every((t) => t.health === 'up');
  } catch { /* not ready yet */ }
  if (!up) await sleep(1);
}
r.check(up, 'Prometheus scrapes the closewatch demo (target health up)');
log(`scrape target up: ${up}`);

// 1. quiet baseline
let thresholdSeen = false;
let pendingBefore = 0;
let firingBefore = false;
while (now() < STORM_AT - 1) {
  const alerts = await spikeAlerts();
  if (alerts.some((a) => a.state === 'firing')) firingBefore = true;
  if (alerts.some((a) => a.state === 'pending')) pendingBefore++;
  if (!thresholdSeen) {
    const t = await query('closewatch:abnormal_closes:spike_threshold');
    if (t.result.length > 0) {
      thresholdSeen = true;
      const rate = await query('closewatch:abnormal_closes:rate5m');
      log(`baseline established: threshold ${Number(t.result[0].value[1]).toFixed(2)}/s, current 1006 rate ${Number(rate.result[0]?.value[1] ?? NaN).toFixed(2)}/s`);
    }
  }
  await sleep(1);
}
r.check(thresholdSeen, `before the storm, closewatch:abnormal_closes:spike_threshold has a value (the quiet check is not vacuous)`);
r.check(!firingBefore, `${ALERT} does not fire during the quiet baseline before the storm`);
log(`quiet baseline over: firing=${firingBefore}, polls with the alert pending=${pendingBefore}`
  + (pendingBefore ? ' (pending without firing: the young baseline, see docs/operations.md)' : ''));

// 2. storm
let pendingAt = null;
let firing = null;
while (now() < STORM_AT + FIRE_TIMEOUT) {
  const alerts = await spikeAlerts();
  if (!pendingAt && alerts.some((a) => a.state === 'pending')) {
    pendingAt = now();
    log(`${ALERT} pending`);
  }
  firing = alerts.find((a) => a.state === 'firing');
  if (firing) break;
  await sleep(1);
}
r.check(!!firing, `${ALERT} goes to firing within ${FIRE_TIMEOUT}s of the storm's start`);
if (firing) {
  log(`${ALERT} FIRING ${(now() - STORM_AT).toFixed(1)}s after the storm started: value ${Number(firing.value).toFixed(2)}/s, labels ${JSON.stringify(firing.labels)}`);
  log(`  description: ${firing.annotations.description}`);
  log(`  remedy: ${firing.annotations.remedy}`);
}

// the scrape after the storm: names for the metric check, the catalog remedy for the annotation
const scrape = await (await fetch(METRICS)).text();
if (SCRAPE_OUT) fs.writeFileSync(SCRAPE_OUT, scrape);
const remedy1006 = /^closewatch_close_code_info\{[^}]*code="1006"[^}]*remedy="((?:[^"\\]|\\.)*)"/m.exec(scrape)?.[1]?.replace(/\\(.)/g, '$1');
if (firing) {
  r.check(/Top initiator: (client|upstream) \(\d+(\.\d+)?% of these drops\), mostly cause=\w+\./.test(firing.annotations.description ?? ''),
    `${ALERT} description names the top initiator and its cause`);
  r.check(!!remedy1006 && firing.annotations.remedy === remedy1006,
    `${ALERT} remedy annotation is the catalog's 1006 remedy, from closewatch_close_code_info`);
  r.check(firing.labels.severity === 'critical' && firing.labels.route === 'default', `${ALERT} labels: severity=critical, route=default`);
  r.check(/^https:\/\/\S+\/docs\/operations\.md#websocketabnormalclosurespike$/.test(firing.annotations.runbook_url ?? ''),
    `${ALERT} runbook_url annotation leads to its runbook section: ${firing.annotations.runbook_url}`);
}

// 3. every dashboard query returns data
const d = readJson(DASHBOARD);
const instance = firing?.labels.instance ?? new URL(METRICS).host;
// ops-check.sh's scrape job is "closewatch" and adds namespace="ci" to its target, as
// prometheus-operator adds the pod's namespace: both variables select something real.
const all = { job: '.*', namespace: '.*', instance: '.*', route: '.*', __rate_interval: '5s', __range: '2m' };
const one = { job: 'closewatch', namespace: 'ci', instance: instance.replace(/\./g, '\\\\.'), route: 'default', __rate_interval: '5s', __range: '2m' };
let queries = 0;
let empty = 0;
for (const { where, expr } of expressionsOf(d)) {
  for (const [label, values] of [['All', all], [`${instance}/default`, one]]) {
    const q = substitute(expr, values);
    queries++;
    try {
      const res = await query(q);
      const samples = res.resultType === 'vector' ? res.result : [];
      const numbers = samples.filter((s) => !Number.isNaN(Number(s.value[1])));
      if (!r.check(numbers.length > 0, `${where} [${label}] returns data`)) {
        empty++;
        console.log(`    query: ${q.replace(/\s+/g, ' ')}\n    result: ${JSON.stringify(samples).slice(0, 300)}`);
      }
    } catch (e) {
      r.fail(`${where} [${label}] is a valid query: ${e.message}`);
    }
  }
}
log(`dashboard: ${queries} queries run (${expressionsOf(d).length} expressions × All and closewatch/ci/${instance}/default), ${empty} without data`);
for (const v of variableQueriesOf(d)) {
  const sel = substitute(v.selector, { job: '.*', namespace: '.*', instance: '.*', route: '.*' });
  const values = await api(`/api/v1/label/${v.label}/values`, { 'match[]': sel });
  const want = { job: 'closewatch', namespace: 'ci', instance, route: 'default' }[v.label];
  r.check(values.includes(want), `variable $${v.name} (label_values(${v.selector}, ${v.label})) lists ${want}: ${JSON.stringify(values)}`);
}
r.finish();
