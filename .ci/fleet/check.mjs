// Checks the fleet proof's outcome (see .ci/fleet.sh) and prints its figures:
//
//   node .ci/fleet/check.mjs --report clients.json --rolls rolls.txt --spread 4 \
//     --prometheus http://127.0.0.1:P --haproxy-stats 'http://127.0.0.1:S/stats;csv' \
//     --dashboard grafana/dashboards/closewatch.json --since EPOCH_S
//
// rolls.txt: one line per roll, "replica admin_address sigterm_ms exited_ms exit_code".
// Exits non-zero when any assertion fails.
import { readFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const report = JSON.parse(readFileSync(args.report, 'utf8'));
const rolls = readFileSync(args.rolls, 'utf8').trim().split('\n').map((l) => {
  const [replica, admin, start, end, exit] = l.trim().split(/\s+/);
  return { replica, admin, start: Number(start), end: Number(end), exit: Number(exit) };
});
const SPREAD_S = Number(args.spread);
const BUCKET_MS = 1000;
// reconnects of a drain's clients may come up to the back-off cap (2 s) plus jitter after its end
const BACKOFF_SLACK_MS = 3000;

let failed = 0;
function check(ok, what) {
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
  if (!ok) failed++;
}

async function promQuery(expr, time) {
  const u = new URL('/api/v1/query', args.prometheus);
  u.searchParams.set('query', expr);
  if (time !== undefined) u.searchParams.set('time', String(time));
  const r = await fetch(u);
  const body = await r.json();
  if (body.status !== 'success') throw new Error(`${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

// ── the clients' view ─────────────────────────────────────────────────────────────────────────
const byKind = {};
for (const e of report.errors) byKind[`${e.kind}:${e.detail}`] = (byKind[`${e.kind}:${e.detail}`] ?? 0) + 1;
check(report.errors.length === 0, `no client error (refused connection, HTTP 502/503, reset, gap): ${report.errors.length} ${JSON.stringify(byKind)}`);
const codes = {};
for (const c of report.closes) codes[c.code] = (codes[c.code] ?? 0) + 1;
check(report.closes.every((c) => c.code === 1012), `every session end the clients saw was 1012: ${JSON.stringify(codes)}`);
const inRoll = (t) => rolls.find((r) => t >= r.start && t <= r.end);
check(report.closes.every((c) => inRoll(c.t)), `every session end happened during a replica's drain (${report.closes.length} ends)`);
check(report.connected === report.clients, `every client connected again at the end: ${report.connected}/${report.clients}`);
check(report.duplicates === 0 && report.gaps === 0 && report.unechoed === 0 && report.sent === report.echoed,
  `no echoed message lost or duplicated: sent ${report.sent}, echoed ${report.echoed}, duplicates ${report.duplicates}, gaps ${report.gaps}, unechoed ${report.unechoed}`);

// ── per replica: the drain spread the reconnects ──────────────────────────────────────────────
const figures = [];
for (const r of rolls) {
  const drained = report.closes.filter((c) => c.t >= r.start && c.t <= r.end).length;
  // reconnect attempts of the clients this drain sent away: until the roll's end plus the back-off
  const attempts = report.attempts.filter((t) => t >= r.start && t <= r.end + BACKOFF_SLACK_MS);
  const buckets = new Map();
  for (const t of attempts) {
    const b = Math.floor((t - r.start) / BUCKET_MS);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const peak = Math.max(0, ...buckets.values()) / (BUCKET_MS / 1000);
  const bound = 2 * drained / SPREAD_S;
  figures.push({ ...r, drained, attempts: attempts.length, peak, bound });
  check(drained > 0, `${r.replica}: the clients saw ${drained} sessions drained`);
  check(peak < bound, `${r.replica}: peak reconnect rate ${peak.toFixed(1)}/s (1 s buckets from SIGTERM) < 2 × ${drained} / ${SPREAD_S} s = ${bound.toFixed(1)}/s`);
  check(r.exit === 0, `${r.replica}: exit code ${r.exit}`);
}

// ── Prometheus ────────────────────────────────────────────────────────────────────────────────
// Each replica is drained once; its restarted process starts its counters at 0 and sends no
// 1012 before the end. So per instance, the largest value closewatch_closes_total{1012, proxy}
// reached over the run is the drained process's final count (drain.linger keeps the admin port
// up for a last scrape), and their sum is the fleet's count of drained sessions.
const range = `${Math.ceil(Date.now() / 1000 - Number(args.since)) + 5}s`;
const perInstance = await promQuery(
  `sum by (instance) (max_over_time(closewatch_closes_total{code="1012",initiator="proxy"}[${range}]))`);
let promTotal = 0;
for (const r of rolls) {
  const series = perInstance.find((s) => s.metric.instance === r.admin);
  const value = series ? Number(series.value[1]) : 0;
  promTotal += value;
  const f = figures.find((x) => x.replica === r.replica);
  f.prometheus = value;
  check(value === f.drained, `${r.replica} (${r.admin}): Prometheus counted ${value} proxy 1012 closes, the clients saw ${f.drained}`);
}
check(promTotal === report.closes.length, `fleet: Prometheus sum ${promTotal} = sessions the clients saw drained ${report.closes.length}`);
const instances = await promQuery('count(count by (instance) (closewatch_sessions_opened_total))');
check(instances.length === 1 && Number(instances[0].value[1]) === 3, `Prometheus scrapes three closewatch instances`);

// The dashboard's queries aggregate over the instances: with every instance selected, a query
// that is not explicitly per instance returns series without an instance label.
const dashboard = JSON.parse(readFileSync(args.dashboard, 'utf8'));
const exprs = [];
(function walk(o) {
  if (Array.isArray(o)) o.forEach(walk);
  else if (o && typeof o === 'object') {
    if (typeof o.expr === 'string') exprs.push(o.expr);
    Object.values(o).forEach(walk);
  }
})(dashboard.panels);
let evaluated = 0;
let withData = 0;
for (const expr of exprs.filter((e) => !/by \([^)]*instance/.test(e) && !/closewatch:/.test(e))) {
  const q = expr.replaceAll('$job', '.*').replaceAll('$namespace', '.*').replaceAll('$instance', '.*').replaceAll('$route', '.*')
    .replaceAll('$__rate_interval', '15s').replaceAll('$__range', range);
  const result = await promQuery(q);
  evaluated++;
  if (result.length > 0) withData++;
  const perInstanceSeries = result.filter((s) => 'instance' in s.metric);
  if (perInstanceSeries.length > 0) {
    check(false, `dashboard query returns per-instance series: ${expr.slice(0, 100)}`);
  }
}
check(evaluated > 0 && withData > 0, `dashboard: ${evaluated} queries evaluated over the three instances (${withData} with data), none split by instance`);
// (evaluated a second before the clients stopped, when all of them were connected)
const routes = await promQuery('sum by (route) (closewatch_sessions_active)', (report.at - 1000) / 1000);
check(routes.length === 1 && Number(routes[0].value[1]) === report.clients,
  `dashboard "Active sessions" by route: one series, ${routes.map((s) => s.value[1]).join(',')} = ${report.clients} clients`);

// ── HAProxy: it never failed to connect to a replica ─────────────────────────────────────────
const csv = await (await fetch(args['haproxy-stats'])).text();
const [header, ...lines] = csv.trim().split('\n');
const cols = header.replace(/^# /, '').split(',');
for (const line of lines) {
  const row = Object.fromEntries(line.split(',').map((v, i) => [cols[i], v]));
  if (row.pxname !== 'closewatch' || row.svname === 'FRONTEND' || row.svname === 'BACKEND') continue;
  const econ = Number(row.econ || 0);
  const wretr = Number(row.wretr || 0);
  check(econ === 0 && wretr === 0, `haproxy ${row.svname}: ${row.stot} connections, connection errors ${econ}, retries ${wretr}`);
}

// ── figures ───────────────────────────────────────────────────────────────────────────────────
console.log('\n════ fleet figures');
console.log(`clients ${report.clients}; sessions opened ${report.opens}; sessions drained ${report.closes.length}; ` +
  `messages sent ${report.sent}, echoed ${report.echoed} (duplicates ${report.duplicates}, lost ${report.gaps + report.unechoed})`);
for (const f of figures) {
  console.log(`${f.replica}: drained ${f.drained} (Prometheus ${f.prometheus}), drain ${((f.end - f.start) / 1000).toFixed(1)} s ` +
    `from SIGTERM to exit, reconnect attempts ${f.attempts}, peak ${f.peak.toFixed(1)}/s in 1 s buckets ` +
    `vs bound 2 × ${f.drained}/${SPREAD_S} s = ${f.bound.toFixed(1)}/s, exit code ${f.exit}`);
}
console.log(failed === 0 ? 'fleet: PASS' : `fleet: FAIL (${failed})`);
process.exit(failed === 0 ? 0 : 1);
