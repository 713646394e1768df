#!/usr/bin/env bash
# Operator package checks: the alert rules, the Grafana dashboard, provisioning, docker-compose,
# the Dockerfile, JSON logs — and the proof against a real Prometheus:
#
#   ./mvnw verify && bash .ci/ops-check.sh target/closewatch.jar
#
# Installs what it needs on a fresh Debian machine (Debian's `prometheus` package gives both
# prometheus and promtool; Node.js; the npm packages of .ci/ops/ with `npm ci`). Steps:
#   1. promtool check rules + promtool test rules (grafana/alerts/*.yml)
#   2. rules mutation: the "stays quiet" unit tests fail when the floor/ratio/for they guard goes
#   3. dashboard structure (.ci/ops/check-dashboard.mjs) and types (@grafana/schema 10.4 + tsc)
#   4. docker-compose.yml + provisioning consistency, promtool check config, dockerfilelint
#   5. the live proof: `closewatch demo` (quiet baseline, then a storm of 1006s) scraped every
#      second by Prometheus, which evaluates the real rules with shortened windows
#      (.ci/ops/fast-rules.mjs): the spike alert must stay quiet, then fire after the storm;
#      every dashboard query must return data (with All, and with the one job, namespace,
#      instance and route); every metric it names must be in the scrape;
#      the demo's JSON log lines (config/logback-json.xml): every field an Elastic Common Schema
#      field of its type (the official definitions in .ci/ecs/ecs_flat.yml) or closewatch.*,
#      and the close lines carry their fields, typed.
# Binds 127.0.0.1 only (free ports), stops every process it starts, prints a PASS/FAIL summary
# and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JAR=${1:-target/closewatch.jar}
T0=$(date +%s)

# ── what this script starts, and how it cleans up ────────────────────────────────────────────
WORK=$(mktemp -d "${TMPDIR:-/tmp}/closewatch-ops.XXXXXX")
PIDS=()
POLICY_RC_CREATED=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [ -n "$POLICY_RC_CREATED" ] && rm -f /usr/sbin/policy-rc.d
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS=()
FAILED=0
# step NAME COMMAND...: runs a check, records PASS/FAIL with its duration.
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
summary() {
  echo
  echo "════ ops-check summary ($(( $(date +%s) - T0 ))s)"
  printf '  %s\n' "${RESULTS[@]}"
  local passed=$(( ${#RESULTS[@]} - FAILED ))
  echo "ops-check: $passed passed, $FAILED failed"
  if [ "$FAILED" -eq 0 ]; then echo "ops-check: PASS"; else echo "ops-check: FAIL"; fi
}

# ── tools ────────────────────────────────────────────────────────────────────────────────────
need=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "ops-check: installing Debian packages: ${need[*]}"
  # Keep the packages' services (Debian's prometheus starts a daemon on :9090) from starting.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || { echo "ops-check: apt-get install failed"; exit 1; }
  [ -n "$POLICY_RC_CREATED" ] && rm -f /usr/sbin/policy-rc.d && POLICY_RC_CREATED=
fi
echo "ops-check: $(prometheus --version 2>&1 | head -1); node $(node --version); $(java -version 2>&1 | head -1)"
if ! npm ci --prefix .ci/ops --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1; then
  cat "$WORK/npm.log"; echo "ops-check: npm ci --prefix .ci/ops failed"; exit 1
fi
if [ ! -f "$JAR" ]; then
  echo "ops-check: $JAR not found: build it first (./mvnw verify, or ./mvnw package -DskipTests)"; exit 1
fi
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")

# ── static checks ────────────────────────────────────────────────────────────────────────────
step "promtool check rules" promtool check rules grafana/alerts/closewatch.rules.yml
step "promtool test rules (every alert: fires on a spike, quiet on a steady high baseline and on a tiny count)" \
  promtool test rules grafana/alerts/closewatch.rules.test.yml
step "rules mutation (the quiet tests fail without the floors, ratios and for they guard)" node .ci/ops/rules-mutation.mjs
step "dashboard structure" node .ci/ops/check-dashboard.mjs
step "dashboard types (@grafana/schema 10.4, TypeScript)" node .ci/ops/typecheck-dashboard.mjs
step "docker-compose.yml and Grafana provisioning" node .ci/ops/check-compose.mjs
step "promtool check config (compose Prometheus)" promtool check config grafana/prometheus/prometheus.yml
step "dockerfilelint Dockerfile" .ci/ops/node_modules/.bin/dockerfilelint Dockerfile
step "JSON log schema check (ECS, .ci/ecs/ecs_flat.yml) catches a wrong type, a wrong value, an unknown field" \
  node .ci/ops/check-json-logs.mjs --self-test

# ── the live proof ───────────────────────────────────────────────────────────────────────────
# Timeline (seconds from the demo's start): Prometheus scrapes and evaluates every second; the
# fast rules' baseline is the 10s rate averaged over a 60s window ending 30s ago, counted once
# the recorded rate is 40s old, so it exists from ~45s; quiet until the storm at 70s (10
# sessions/s, 1 in 7 ending with 1006); then 40 extra 1006/s for 90s; the spike alert
# (for: 10s) should fire ~15s into the storm.
STORM_AFTER=70
live_proof() {
  local ports proxy_port admin_port prom_port started storm_at i
  ports=$(node .ci/ops/free-ports.mjs 3) || return 1
  read -r proxy_port admin_port prom_port <<<"$ports"
  node .ci/ops/fast-rules.mjs "$WORK/closewatch.fast.rules.yml" || return 1
  cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - closewatch.fast.rules.yml
scrape_configs:
  - job_name: closewatch
    static_configs:
      - targets: ["127.0.0.1:$admin_port"]
        # as prometheus-operator labels a pod's series: the dashboard's \$namespace has a value
        labels:
          namespace: ci
EOF
  promtool check config "$WORK/prometheus.yml" >/dev/null || return 1

  java -Dlogback.configurationFile="$ROOT/config/logback-json.xml" -jar "$JAR" demo \
    --listen "127.0.0.1:$proxy_port" --admin "127.0.0.1:$admin_port" --rate 10 \
    --storm-after "$STORM_AFTER" --storm-duration 90 --storm-rate 40 --log --duration 240 \
    >"$WORK/demo.log" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  started=$(date +%s)
  curl -fsS "http://127.0.0.1:$admin_port/healthz" >/dev/null || { echo "closewatch demo did not start:"; tail -20 "$WORK/demo.log"; return 1; }
  storm_at=$((started + STORM_AFTER))
  echo "closewatch demo: proxy 127.0.0.1:$proxy_port, admin 127.0.0.1:$admin_port; storm of 1006s at +${STORM_AFTER}s"

  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1h --log.level=warn \
    >"$WORK/prometheus.log" 2>&1 &
  PIDS+=($!)
  echo "prometheus: 127.0.0.1:$prom_port, rules: the real ones with fast windows ($WORK/closewatch.fast.rules.yml)"

  local ok=0
  timeout 300 node .ci/ops/prove.mjs --prometheus "http://127.0.0.1:$prom_port" --metrics "http://127.0.0.1:$admin_port/metrics" \
    --storm-at "$storm_at" --fire-timeout 90 --scrape-out "$WORK/scrape.txt" || ok=1
  echo
  echo "── metric names in the dashboard vs. the proxy's real /metrics"
  node .ci/ops/check-dashboard.mjs --metrics "$WORK/scrape.txt" || ok=1
  echo
  echo "── JSON log lines of the demo (config/logback-json.xml) against ECS (.ci/ecs/ecs_flat.yml)"
  node .ci/ops/check-json-logs.mjs "$WORK/demo.log" || ok=1
  if [ $ok -ne 0 ]; then
    echo "--- prometheus log (tail)"; tail -20 "$WORK/prometheus.log"
    echo "--- demo log (tail)"; grep -v '^{' "$WORK/demo.log" | tail -20
  fi
  return $ok
}
step "live proof: Prometheus 2 + closewatch demo with a 1006 storm" live_proof

summary
[ "$FAILED" -eq 0 ]
