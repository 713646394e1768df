#!/usr/bin/env bash
# The fleet proof (issue 11): three closewatch replicas behind HAProxy (TCP mode, health-checking
# each replica's /readyz) in front of one echo upstream, a real Prometheus scraping the three
# admin ports, and 300 WebSocket clients (npm `ws`, .ci/fleet/clients.mjs) sending
# sequence-numbered messages and reconnecting with back-off and jitter. The replicas are rolled
# one after another (SIGTERM, wait for the exit, start again, wait until HAProxy sees it ready);
# .ci/fleet/check.mjs then asserts: no refused connection, 502/503 or 1006 at any client; every
# session the roll ended got 1012; every client connected again; no message lost or duplicated;
# the peak reconnect rate during each drain below 2 × (sessions on it / drain.spread); exit code
# 0 for each replica; Prometheus' 1012/proxy closes equal the sessions the clients saw drained;
# the dashboard's queries aggregate over the instances. Prints the figures.
#
#   ./mvnw package -DskipTests && bash .ci/fleet.sh target/closewatch.jar
#
# Everything binds 127.0.0.1; every wait has a deadline; the whole run is bounded to 180 s; every
# process it starts is stopped on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JAR=${1:-target/closewatch.jar}
T0=$(date +%s)
DEADLINE=$((T0 + 180))
CLIENTS=${FLEET_CLIENTS:-300}
UNREADY=2s SPREAD_S=4 TIMEOUT=5s LINGER=1500ms

WORK=$(mktemp -d "${TMPDIR:-/tmp}/closewatch-fleet.XXXXXX")
PIDS=()
declare -A REPLICA_PID
cleanup() {
  local pid
  for pid in "${PIDS[@]}" "${REPLICA_PID[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}" "${REPLICA_PID[@]}"; do
    wait "$pid" 2>/dev/null
  done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "fleet: FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f (tail)"; tail -5 "$f"; done; exit 1; }
left() { echo $((DEADLINE - $(date +%s))); }
now_ms() { date +%s%3N; }
# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it succeeds, at most SECONDS
# (and never past the script's deadline).
wait_for() {
  local secs=$1 what=$2; shift 2
  local until=$(( $(date +%s) + secs ))
  [ "$until" -gt "$DEADLINE" ] && until=$DEADLINE
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$until" ] && fail "timed out waiting for $what"
    sleep 0.1
  done
}

# ── tools ────────────────────────────────────────────────────────────────────────────────────
need=()
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "fleet: installing Debian packages: ${need[*]}"
  # Keep the packages' services (haproxy, prometheus on :9090) from starting.
  created=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  rc=$?
  [ -n "$created" ] && rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || fail "apt-get install ${need[*]}"
fi
[ -d src/test/node/node_modules/ws ] || npm ci --prefix src/test/node --no-audit --no-fund --loglevel=error >/dev/null \
  || fail "npm ci --prefix src/test/node"
[ -f "$JAR" ] || fail "$JAR not found: build it first (./mvnw package -DskipTests)"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")
echo "fleet: $(haproxy -v | head -1); $(prometheus --version 2>&1 | head -1); node $(node --version); $(java -version 2>&1 | head -1)"

# ── ports and configuration ─────────────────────────────────────────────────────────────────
read -r UP LB STATS PROM P0 A0 P1 A1 P2 A2 <<<"$(node .ci/ops/free-ports.mjs 10)" || fail "free ports"
PROXY=("$P0" "$P1" "$P2")
ADMIN=("$A0" "$A1" "$A2")
for i in 0 1 2; do
  cat >"$WORK/r$i.yaml" <<YAML
listen: 127.0.0.1:${PROXY[$i]}
admin:
  listen: 127.0.0.1:${ADMIN[$i]}
drain:
  unready_delay: $UNREADY
  spread: ${SPREAD_S}s
  timeout: $TIMEOUT
  linger: $LINGER
routes:
  - name: echo
    upstream: ws://127.0.0.1:$UP
YAML
done
cat >"$WORK/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout check 500ms
frontend websocket
  bind 127.0.0.1:$LB
  default_backend closewatch
backend closewatch
  balance leastconn
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fastinter 100ms downinter 200ms fall 1 rise 2
  server r0 127.0.0.1:$P0 check port $A0
  server r1 127.0.0.1:$P1 check port $A1
  server r2 127.0.0.1:$P2 check port $A2
listen stats
  mode http
  bind 127.0.0.1:$STATS
  stats enable
  stats uri /stats
CFG
haproxy -c -q -f "$WORK/haproxy.cfg" || fail "haproxy -c"
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: closewatch
    static_configs:
      - targets: ["127.0.0.1:$A0", "127.0.0.1:$A1", "127.0.0.1:$A2"]
YAML

JAVA_OPTS=(-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
start_replica() {
  local i=$1
  java "${JAVA_OPTS[@]}" -jar "$JAR" run --config "$WORK/r$i.yaml" >>"$WORK/r$i.log" 2>&1 &
  REPLICA_PID[$i]=$!
}
ready_in_haproxy() { # HAProxy's own view: server r$1 UP
  curl -fsS "http://127.0.0.1:$STATS/stats;csv" | awk -F, -v s="r$1" '$1=="closewatch" && $2==s {print $18}' | grep -qx UP
}

# ── start ────────────────────────────────────────────────────────────────────────────────────
java "${JAVA_OPTS[@]}" -jar "$JAR" echo-upstream --listen "127.0.0.1:$UP" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
for i in 0 1 2; do start_replica $i; done
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
for i in 0 1 2; do wait_for 40 "replica r$i ready in HAProxy" ready_in_haproxy $i; done
wait_for 20 "Prometheus ready" curl -fsS "http://127.0.0.1:$PROM/-/ready"
echo "fleet: upstream :$UP, HAProxy :$LB (stats :$STATS), Prometheus :$PROM, replicas ${PROXY[*]} (admin ${ADMIN[*]})"

node .ci/fleet/clients.mjs --url "ws://127.0.0.1:$LB/" --clients "$CLIENTS" --status "$WORK/status" \
  --report "$WORK/clients.json" >"$WORK/clients.log" 2>&1 &
CLIENTS_PID=$!
PIDS+=($CLIENTS_PID)
connected() { grep -qx "connected=$CLIENTS" "$WORK/status"; }
wait_for 30 "$CLIENTS clients connected" connected
sleep 2 # steady traffic before the roll
echo "fleet: $CLIENTS clients connected; $(tr '\n' ' ' <"$WORK/status")"

# ── the roll ─────────────────────────────────────────────────────────────────────────────────
: >"$WORK/rolls.txt"
for i in 0 1 2; do
  pid=${REPLICA_PID[$i]}
  start=$(now_ms)
  kill -TERM "$pid"
  # the drain takes unready_delay + spread + the handshakes + linger: ~8 s here; 20 s at most
  exited=
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || { exited=1; break; }
    sleep 0.1
  done
  [ -n "$exited" ] || fail "replica r$i still running 20 s after SIGTERM"
  wait "$pid"; code=$?
  end=$(now_ms)
  echo "r$i 127.0.0.1:${ADMIN[$i]} $start $end $code" >>"$WORK/rolls.txt"
  echo "fleet: r$i drained and exited $code $(awk -v ms=$((end - start)) 'BEGIN {printf "%.1f", ms / 1000}') s after SIGTERM; $(tr '\n' ' ' <"$WORK/status")"
  start_replica $i
  wait_for 40 "replica r$i ready again in HAProxy" ready_in_haproxy $i
done
wait_for 20 "every client connected again" connected
sleep 1.5 # one more scrape of the restarted replicas
kill -USR2 "$CLIENTS_PID"
wait_for 15 "the clients' report" test -s "$WORK/clients.json"

echo
node .ci/fleet/check.mjs --report "$WORK/clients.json" --rolls "$WORK/rolls.txt" --spread "$SPREAD_S" \
  --prometheus "http://127.0.0.1:$PROM" --haproxy-stats "http://127.0.0.1:$STATS/stats;csv" \
  --dashboard grafana/dashboards/closewatch.json --since "$T0"
rc=$?
echo "fleet: $(( $(date +%s) - T0 )) s"
[ $rc -eq 0 ] || { for f in "$WORK"/r*.log; do echo "--- $f (warnings)"; grep -E 'WARN|ERROR' "$f" | tail -5; done; }
exit $rc
