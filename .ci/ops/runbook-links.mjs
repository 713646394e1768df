// The runbook links of the alert rules and the dashboard, checked against docs/operations.md:
//   node .ci/ops/runbook-links.mjs OUT.md
// Every alert of grafana/alerts/closewatch.rules.yml and of its Kubernetes copy
// (deploy/kubernetes/prometheusrule.yaml) carries exactly one annotations.runbook_url, equal to
// RUNBOOK_BASE + "#" + the alert's name in lower case (GitHub's anchor of its "### Name" runbook
// section); every link of the dashboard (and of its copy) under RUNBOOK_BASE names an anchor too.
// The anchors themselves are not judged here: this script writes OUT.md, one relative link per
// runbook URL to docs/operations.md#anchor, and .ci/docs-check.sh hands that file to
// remark-validate-links with the docs, so GitHub's own anchor rules decide whether the section
// exists. Only Node.js built-ins: docs-check installs no packages of .ci/ops.
// Exit status 1 on any failure (OUT.md is still written for what was found).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the runbook lives for Alertmanager and Grafana: an absolute URL (a relative link cannot
 * work in a notification). A placeholder on a reserved domain (RFC 2606): users replace
 * "https://git.example.com/closewatch/blob/main" with their copy of the repository, as
 * docs/operations.md ("Runbook links") says.
 */
export const RUNBOOK_BASE = 'https://git.example.com/closewatch/blob/main/docs/operations.md';

const RULE_FILES = ['grafana/alerts/closewatch.rules.yml', 'deploy/kubernetes/prometheusrule.yaml'];
const DASHBOARDS = ['grafana/dashboards/closewatch.json', 'deploy/kubernetes/dashboards/closewatch.json'];

const out = process.argv[2];
if (!out) {
  console.error('usage: runbook-links.mjs OUT.md');
  process.exit(2);
}

const failures = [];
const links = []; // {what, anchor}

function anchorOf(url, what) {
  if (!url.startsWith(`${RUNBOOK_BASE}#`)) {
    failures.push(`${what}: runbook URL ${url} does not start with ${RUNBOOK_BASE}#`);
    return null;
  }
  const anchor = url.slice(RUNBOOK_BASE.length + 1);
  if (!/^[a-z0-9_-]+$/.test(anchor)) failures.push(`${what}: anchor "${anchor}" is not a GitHub-style anchor (a-z 0-9 - _)`);
  return anchor;
}

// Rules: a line-oriented walk (the files are plain YAML written by hand and by sync.mjs): an
// alert starts at "- alert: NAME" and ends at the next "- alert:" or "- record:" or group.
for (const file of RULE_FILES) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const alerts = [];
  let cur = null;
  for (const line of lines) {
    const a = /^\s*- alert:\s*([A-Za-z0-9_]+)\s*$/.exec(line);
    if (a) {
      cur = { name: a[1], urls: [] };
      alerts.push(cur);
      continue;
    }
    if (/^\s*- (record|name):/.test(line)) cur = null;
    const u = /^\s*runbook_url:\s*['"]?([^'"\s]+)['"]?\s*$/.exec(line);
    if (u) {
      if (cur) cur.urls.push(u[1]);
      else failures.push(`${file}: runbook_url outside an alert: ${line.trim()}`);
    }
  }
  if (alerts.length === 0) failures.push(`${file}: no alerts found`);
  for (const { name, urls } of alerts) {
    const what = `${file}: alert ${name}`;
    if (urls.length !== 1) {
      failures.push(`${what}: ${urls.length} runbook_url annotations (expected: exactly one)`);
      continue;
    }
    const anchor = anchorOf(urls[0], what);
    if (anchor === null) continue;
    if (anchor !== name.toLowerCase()) failures.push(`${what}: runbook_url anchor "${anchor}" (expected: "${name.toLowerCase()}", its own section)`);
    links.push({ what, anchor });
  }
  console.log(`runbook links: ${file}: ${alerts.length} alerts`);
}

// Dashboards: the dashboard's links, and any panel link, under RUNBOOK_BASE.
for (const file of DASHBOARDS) {
  const d = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
  const all = [...(d.links ?? [])];
  const walk = (ps) => { for (const p of ps ?? []) { all.push(...(p.links ?? [])); walk(p.panels); } };
  walk(d.panels);
  const runbook = all.filter((l) => typeof l.url === 'string' && l.url.startsWith(RUNBOOK_BASE));
  if (!(d.links ?? []).some((l) => l.type === 'link' && l.url === `${RUNBOOK_BASE}#alert-runbook`)) {
    failures.push(`${file}: no dashboard link to ${RUNBOOK_BASE}#alert-runbook`);
  }
  for (const l of runbook) {
    const anchor = anchorOf(l.url, `${file}: link "${l.title}"`);
    if (anchor !== null) links.push({ what: `${file}: link "${l.title}"`, anchor });
  }
  console.log(`runbook links: ${file}: ${runbook.length} links to the runbook`);
}

// The file remark-validate-links checks: relative links from OUT's directory to the docs page.
const target = path.relative(path.dirname(path.resolve(out)), path.join(ROOT, 'docs/operations.md')).split(path.sep).join('/');
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
fs.writeFileSync(out, '# Runbook links of the alert rules and the dashboard\n\n'
  + links.map((l) => `- [${l.what.replace(/[[\]]/g, '')}](${target}#${l.anchor})\n`).join(''));

for (const f of failures) console.log(`  FAIL ${f}`);
console.log(`runbook links: ${links.length} written to ${out}, ${failures.length} failed`);
process.exitCode = failures.length ? 1 : 0;
