#!/usr/bin/env bash
# Kubernetes package checks (deploy/kubernetes/, a kustomize base):
#
#   ./mvnw package -DskipTests && bash .ci/k8s-check.sh target/closewatch.jar
#
# No kustomize or kubectl package exists for Debian and npm has none that does not download a
# binary, so the base is rendered by .ci/k8s/render.mjs: a strict subset of `kustomize build`
# (resources, configMapGenerator with kustomize's name hash and name references, the load
# restrictor) that refuses every field it does not implement; its tests include kustomize's own
# hash test vectors. Every rendered manifest is validated with the npm packages kubernetes-models
# and @kubernetes-models/prometheus-operator: their validate() (the Kubernetes OpenAPI and the
# prometheus-operator CRD schemas, compiled with ajv) and their TypeScript types through tsc,
# which refuses unknown fields. Steps:
#   1. the generated files (PrometheusRule from grafana/alerts/closewatch.rules.yml, the dashboard
#      copy) are what .ci/k8s/sync.mjs makes from their sources
#   2. render the kustomization
#   3. validate every rendered manifest (schemas, unknown fields)
#   4. node --test .ci/k8s/: the renderer's tests, the validator refusing broken manifests, and the
#      base's promises (rules = grafana's rules parsed, dashboard byte-equal, the drain within
#      terminationGracePeriodSeconds, probes on the admin port, non-root, read-only root, the
#      ConfigMap's closewatch.yaml through `closewatch check-config`)
# Offline after `npm ci`; about 30 s. Prints a PASS/FAIL summary, exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
JAR=${1:-target/closewatch.jar}
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/closewatch-k8s.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

RESULTS=()
FAILED=0
step() {
  local name=$1; shift
  local t=$(date +%s)
  echo
  echo "── $name"
  if "$@"; then
    RESULTS+=("PASS  $name ($(( $(date +%s) - t ))s)")
  else
    RESULTS+=("FAIL  $name ($(( $(date +%s) - t ))s)")
    FAILED=$((FAILED + 1))
  fi
}

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -gt 0 ]; then
  echo "k8s-check: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || { echo "k8s-check: apt-get install failed"; exit 1; }
fi
if ! npm ci --prefix .ci/k8s --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1; then
  cat "$WORK/npm.log"; echo "k8s-check: npm ci --prefix .ci/k8s failed"; exit 1
fi
if [ ! -f "$JAR" ]; then
  echo "k8s-check: $JAR not found: build it first (./mvnw package -DskipTests)"; exit 1
fi
export CLOSEWATCH_JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")
echo "k8s-check: node $(node --version); kubernetes-models $(node -p 'require("./.ci/k8s/node_modules/kubernetes-models/package.json").version'), @kubernetes-models/prometheus-operator $(node -p 'require("./.ci/k8s/node_modules/@kubernetes-models/prometheus-operator/package.json").version')"

render() {
  node .ci/k8s/render.mjs deploy/kubernetes >"$WORK/rendered.yaml" || return 1
  grep -E '^kind: ' "$WORK/rendered.yaml" | sort | uniq -c
}
step "generated files in sync with grafana/ (node .ci/k8s/sync.mjs --check)" node .ci/k8s/sync.mjs --check
step "render deploy/kubernetes (kustomize subset, .ci/k8s/render.mjs)" render
step "validate every manifest (Kubernetes + prometheus-operator schemas, no unknown fields)" node .ci/k8s/validate.mjs "$WORK/rendered.yaml"
step "node --test .ci/k8s/ (renderer, validator refusals, the base's promises)" node --test .ci/k8s/

echo
echo "════ k8s-check summary ($(( $(date +%s) - T0 ))s)"
printf '  %s\n' "${RESULTS[@]}"
echo "k8s-check: $(( ${#RESULTS[@]} - FAILED )) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
