#!/usr/bin/env bash
# Documentation link check: every relative link in README.md and docs/*.md must name a file of
# the repository, and every #anchor a heading of its target (GitHub's anchor rules), checked by
# remark-validate-links. Offline: links to other sites (http://, https://) are NOT checked here.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --prefix .ci/docs --no-audit --no-fund --loglevel=error
# --frail: warnings fail the run; repository:false: no guessing of a GitHub URL from git remotes.
.ci/docs/node_modules/.bin/remark --no-config --no-stdout --quiet --frail \
  --no-color --use './.ci/docs/node_modules/remark-validate-links/index.js=repository:false' README.md docs/
echo "docs: links and anchors in README.md and docs/ are valid"
