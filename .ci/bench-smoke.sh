#!/usr/bin/env bash
# Benchmark smoke for CI: compiles the Maven profile `bench` (src/bench) and runs every scenario
# (echo, stream, churn, idle against direct, closewatch and nginx) and the JMH frame-observer
# benchmark for a second or so each, so the benchmark cannot rot. It asserts no figures (CI
# machines are shared and noisy); it fails only if the benchmark does not build or run, a session
# fails, or closewatch's close counts differ from what the driver did.
# Usage: bash .ci/bench-smoke.sh   (BENCH_BUILD_DIR=/some/dir to build outside target/)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "bench-smoke: installing nginx (Debian package) for the nginx target"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nginx >/dev/null
fi

build_dir="${BENCH_BUILD_DIR:-$PWD/target}"
start=$(date +%s)
# Bounded: the smoke takes about a minute; 170 s is the most it may take.
timeout --kill-after=10 170 ./mvnw -B -q -Pbench -Dbuild.dir="$build_dir" verify -Dbench.mode=smoke -Dbench.args=--netty-floor
test -s "$build_dir/bench/report.md"
test -s "$build_dir/bench/report.json"
grep -q "^## Netty floor" "$build_dir/bench/report.md"
echo "bench-smoke: OK in $(( $(date +%s) - start )) s; report: $build_dir/bench/report.md"
