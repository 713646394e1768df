#!/usr/bin/env bash
# Benchmark smoke for CI: compiles the Maven profile `bench` (src/bench) and runs every scenario
# (echo, stream, churn, idle against direct, closewatch, nginx, HAProxy and netty-tcp) and the JMH
# frame-observer benchmark for a second or so each, so the benchmark cannot rot. It fails if the
# benchmark does not build or run, a session fails, closewatch's close counts differ from what the
# driver did, or the regression guard trips: closewatch below 0.75 x netty-tcp (the blind Netty
# relay, same run, same JVM options) on echo messages/s or stream MB/s, or below 0.6 x on churn
# sessions/s, as the median of 5 interleaved 1 s rounds per scenario after a 2 s pre-warm (5 more
# rounds if the median is below; the median of all 10 decides). See docs/performance.md.
# Usage: bash .ci/bench-smoke.sh   (BENCH_BUILD_DIR=/some/dir to build outside target/)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench-smoke: installing ${need[*]} (Debian packages) for the proxy targets"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

build_dir="${BENCH_BUILD_DIR:-$PWD/target}"
start=$(date +%s)
# Bounded: the smoke takes about 2 minutes (133 s at a load average of 4-6); 300 s is the most it may take (the guard's
# second set of rounds included).
timeout --kill-after=10 300 ./mvnw -B -q -Pbench -Dbuild.dir="$build_dir" verify -Dbench.mode=smoke \
  -Dbench.args="--netty-floor --guard"
test -s "$build_dir/bench/report.md"
test -s "$build_dir/bench/report.json"
grep -q "^## Netty floor" "$build_dir/bench/report.md"
grep -q "^## Regression guard" "$build_dir/bench/report.md"
echo "bench-smoke: OK in $(( $(date +%s) - start )) s; report: $build_dir/bench/report.md"
