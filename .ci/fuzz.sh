#!/usr/bin/env bash
# Fuzzes each Jazzer @FuzzTest for a bounded time (issue 10): first over its committed corpus
# (src/test/resources/<package>/<Class>Inputs/<method>/) and the corpus kept from earlier runs
# (.cifuzz-corpus/, not committed), then on new inputs. Jazzer fuzzes one @FuzzTest per JVM, so
# each target is its own Maven run. Fails on any finding (Jazzer writes the input as crash-<sha1>
# into the target's Inputs directory; the test's message says which property broke and shows
# both byte streams). `./mvnw verify` already ran the same tests over the committed corpus only.
#
#   FUZZ_SECONDS=50   fuzzing time per target; with JVM start, instrumentation and the corpus
#                     run first, about 3 minutes in all on a loaded 2-core machine
#   FUZZ_TARGETS="…"  Class#method list, to fuzz fewer
#   FUZZ_IGNORE=item1,item2  HttpEdgeFuzzTest property groups not checked (see its Javadoc): to
#                     look for other defects while known ones are open; empty in CI
#   FUZZ_NEW_FINDINGS=fail|report  what a finding on a NEW input does (default fail). With report
#                     (as CI runs it) the new input is printed and kept in target/fuzz/new-findings/,
#                     and the target's committed corpus is replayed alone: the run fails only if
#                     that replay fails. The exploration differs on every run; the corpus replay
#                     is what gates a change, and a reported input joins the corpus with its fix.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-50}"
targets="${FUZZ_TARGETS:-dev.closewatch.websocket.FrameObserverFuzzTest#shouldReadEveryStreamAsNettyDoes dev.closewatch.proxy.HttpEdgeFuzzTest#shouldAnswerEveryByteStreamWithHttpOrAClose}"
out=target/fuzz
mkdir -p "$out"

failed=()
reported=()
summary=()
for target in $targets; do
  class="${target%%#*}"
  method="${target##*#}"
  log="$out/${class##*.}.log"
  inputs="src/test/resources/$(dirname "${class//.//}")/${class##*.}Inputs/$method"
  before=$(ls "$inputs" 2>/dev/null | grep -c '^crash-' || true)
  echo "fuzz: $target for ${seconds}s (log: $log)"
  start=$(date +%s)
  # Coverage guidance from closewatch and from the Netty codecs it leans on; the close log and
  # the per-request INFO lines stay quiet at several thousand inputs a second.
  rc=0
  JAZZER_FUZZ=1 ./mvnw -q -B test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.max_duration="${seconds}s" \
    -Djazzer.instrument='dev.closewatch.**,io.netty.handler.codec.http.**' \
    -Dclosewatch.test.log=OFF ${FUZZ_IGNORE:+-Dclosewatch.fuzz.ignore="$FUZZ_IGNORE"} >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  # libFuzzer's last status line: "#<execs> DONE cov: <edges> ft: <features> corp: <inputs>/<bytes> ..."
  status=$(grep -aE '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$status")
  corpus=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$status")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  after=$(ls "$inputs" 2>/dev/null | grep -c '^crash-' || true)
  line="${class##*.}#$method: ${execs:-?} execs in ${took}s, corpus ${corpus:-?} (inputs/bytes), coverage ${cov:-?} edges"
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    echo "fuzz: $target failed; end of $log:"
    grep -avE '^INFO:' "$log" | grep -aE 'FuzzTestFinding|Error|Exception|client sent|upstream sent|received:' | head -40 || true
    ls "$inputs" 2>/dev/null | grep '^crash-' | sed "s|^|fuzz: finding: $inputs/|" || true
    replayed=fail
    if [ "$after" -gt "$before" ] && [ "${FUZZ_NEW_FINDINGS:-fail}" = report ]; then
      mkdir -p "$out/new-findings"
      for f in $(ls "$inputs" | grep '^crash-'); do
        echo "fuzz: new finding $f (base64): $(base64 -w0 "$inputs/$f")"
        mv "$inputs/$f" "$out/new-findings/"
      done
      # The committed corpus alone, as ./mvnw verify runs it: does anything known fail?
      if ./mvnw -q -B test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
          -Dclosewatch.test.log=OFF >"$log.replay" 2>&1; then
        replayed=pass
      fi
    fi
    if [ "$replayed" = pass ]; then
      line="$line — NEW FINDING reported (corpus replay passes; FUZZ_NEW_FINDINGS=report)"
      reported+=("$target")
    else
      line="$line — FAILED (exit $rc)"
      failed+=("$target")
    fi
  fi
  summary+=("$line")
done

echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
if [ ${#reported[@]} -gt 0 ]; then
  echo "fuzz: NEW FINDINGS in ${reported[*]}: inputs above and in $out/new-findings/; add them to the corpus with the fix" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
