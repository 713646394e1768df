#!/usr/bin/env bash
# Documentation link check: every relative link in README.md and docs/*.md must name a file of
# the repository, and every #anchor a heading of its target (GitHub's anchor rules), checked by
# remark-validate-links. Offline: links to other sites (http://, https://) are NOT checked here,
# except the runbook URLs of the alert rules and the dashboard, whose anchors must exist.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --prefix .ci/docs --no-audit --no-fund --loglevel=error

# The alert rules' runbook_url annotations and the dashboard's runbook links are absolute URLs
# (Alertmanager and Grafana cannot follow a relative one): .ci/ops/runbook-links.mjs checks their
# shape (one per alert, the alert's own section) and writes each as a relative link to
# docs/operations.md#anchor into a scratch page, which remark-validate-links checks below with
# the docs — so a renamed or missing runbook section fails here.
RUNBOOK_LINKS=target/docs-check/runbook-links.md
node .ci/ops/runbook-links.mjs "$RUNBOOK_LINKS"

# --frail: warnings fail the run; repository:false: no guessing of a GitHub URL from git remotes.
.ci/docs/node_modules/.bin/remark --no-config --no-stdout --quiet --frail \
  --no-color --use './.ci/docs/node_modules/remark-validate-links/index.js=repository:false' README.md docs/ "$RUNBOOK_LINKS"

# The alert runbook: one section of docs/operations.md per alert of the rules file, so that
# docs/operations.md#<alert name in lower case> leads to it.
missing=0
for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' grafana/alerts/closewatch.rules.yml); do
  if ! grep -qx "### ${alert}" docs/operations.md; then
    echo "docs: docs/operations.md has no runbook section '### ${alert}' (grafana/alerts/closewatch.rules.yml)" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ]
echo "docs: links and anchors in README.md and docs/ are valid; every alert has its runbook section, and every runbook_url and dashboard runbook link names an existing anchor"
