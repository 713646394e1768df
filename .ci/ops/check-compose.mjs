// Consistency of docker-compose.yml with the files it wires together (no Docker needed):
//   node .ci/ops/check-compose.mjs
// Every bind-mounted file exists; Prometheus loads the mounted rules and scrapes closewatch's
// admin port under job "closewatch"; Grafana's provisioning points at the Prometheus service
// and at the folder where the dashboards are mounted; published ports bind 127.0.0.1 and are
// ports the Dockerfile EXPOSEs.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, Report, readYaml } from './lib.mjs';

const r = new Report('compose and provisioning');
const compose = readYaml(path.join(ROOT, 'docker-compose.yml'));
const s = compose.services ?? {};
for (const name of ['closewatch', 'prometheus', 'grafana']) r.check(!!s[name], `service ${name} exists`);
r.check(s.closewatch?.build === '.' || s.closewatch?.build?.context === '.', 'closewatch is built from the Dockerfile here');

// bind mounts: source exists; map container path → repo file
const mounts = {};
for (const [svc, def] of Object.entries(s)) {
  for (const v of def.volumes ?? []) {
    const [src, dst] = String(v).split(':');
    if (!src.startsWith('.')) continue; // named volume
    const abs = path.join(ROOT, src);
    r.check(fs.existsSync(abs), `${svc}: bind-mount source ${src} exists`);
    mounts[`${svc}:${dst}`] = abs;
  }
  for (const p of def.ports ?? []) r.check(String(p).startsWith('127.0.0.1:'), `${svc}: published port ${p} binds 127.0.0.1 only`);
}

// closewatch's admin port, from its command
const cmd = (s.closewatch?.command ?? []).map(String);
const admin = cmd[cmd.indexOf('--admin') + 1] ?? '';
const adminPort = admin.split(':').pop();
r.check(/^0\.0\.0\.0:\d+$/.test(admin), `closewatch's admin server listens on all interfaces in the container (${admin})`);
const exposed = [...fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
for (const p of s.closewatch?.ports ?? []) {
  const containerPort = String(p).split(':').pop();
  r.check(exposed.includes(containerPort), `closewatch publishes ${containerPort}, which the Dockerfile EXPOSEs (${exposed.join(' ')})`);
}

// Prometheus: config mounted, rules mounted where rule_files looks, job closewatch → closewatch admin
const promConfigPath = Object.entries(mounts).find(([k]) => k === 'prometheus:/etc/prometheus/prometheus.yml')?.[1];
r.check(!!promConfigPath, 'prometheus.yml is mounted at /etc/prometheus/prometheus.yml');
if (promConfigPath) {
  const prom = readYaml(promConfigPath);
  const ruleMount = Object.keys(mounts).find((k) => k.startsWith('prometheus:') && mounts[k] === path.join(ROOT, 'grafana/alerts/closewatch.rules.yml'));
  const ruleDst = ruleMount?.slice('prometheus:'.length);
  const globToRe = (g) => new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '$');
  r.check(!!ruleDst && (prom.rule_files ?? []).some((g) => globToRe(g).test(ruleDst)),
    `Prometheus's rule_files ${JSON.stringify(prom.rule_files)} load the mounted rules (${ruleDst})`);
  const job = (prom.scrape_configs ?? []).find((j) => j.job_name === 'closewatch');
  r.check(!!job, 'Prometheus has a scrape job named "closewatch" (CloseWatchDown depends on the name)');
  const targets = (job?.static_configs ?? []).flatMap((c) => c.targets);
  r.check(targets.includes(`closewatch:${adminPort}`), `the closewatch job scrapes closewatch:${adminPort} (${targets})`);
}

// Grafana: provisioning mounted; data source → prometheus service; dashboards provider → mounted folder
const provDir = mounts['grafana:/etc/grafana/provisioning'];
r.check(provDir === path.join(ROOT, 'grafana/provisioning'), 'grafana/provisioning is mounted at /etc/grafana/provisioning');
const dsFiles = fs.readdirSync(path.join(ROOT, 'grafana/provisioning/datasources')).filter((f) => /\.ya?ml$/.test(f));
const datasources = dsFiles.flatMap((f) => readYaml(path.join(ROOT, 'grafana/provisioning/datasources', f)).datasources ?? []);
const promDs = datasources.find((d) => d.type === 'prometheus');
r.check(!!promDs, 'a Prometheus data source is provisioned');
r.check(promDs?.url === 'http://prometheus:9090', `the data source points at the prometheus service (${promDs?.url})`);
r.check(datasources.filter((d) => d.isDefault).length === 1, 'exactly one default data source (the $datasource variable picks it)');
const dbFiles = fs.readdirSync(path.join(ROOT, 'grafana/provisioning/dashboards')).filter((f) => /\.ya?ml$/.test(f));
const providers = dbFiles.flatMap((f) => readYaml(path.join(ROOT, 'grafana/provisioning/dashboards', f)).providers ?? []);
r.check(providers.length > 0, 'a dashboard provider is provisioned');
for (const p of providers) {
  const mounted = mounts[`grafana:${p.options?.path}`];
  r.check(mounted === path.join(ROOT, 'grafana/dashboards'), `dashboard provider "${p.name}" reads ${p.options?.path}, where grafana/dashboards is mounted`);
}
const home = s.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
if (home) {
  const dir = Object.keys(mounts).find((k) => k.startsWith('grafana:') && home.startsWith(k.slice('grafana:'.length) + '/'));
  r.check(!!dir && fs.existsSync(path.join(mounts[dir], home.slice(dir.length - 'grafana:'.length + 1))), `the home dashboard ${home} is a mounted file`);
}
r.finish();
