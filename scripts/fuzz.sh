#!/usr/bin/env bash
# Runs the firmware's libFuzzer targets (firmware/tests/fuzz/) long, one after the other, and prints what
# each did. A crash, leak or sanitizer report stops that target and fails the script; libFuzzer saves the
# input that caused it in firmware/build/fuzz/artifacts/<target>/ (replay: firmware/build/fuzz/fuzz_<target>
# <file>).
#   bash scripts/fuzz.sh [--parallel] [--runs N] [seconds per target, default 600] [target ...]
# Targets: serve (hil_serve through the loopback port) and model_load (hil_model_load). The corpus each
# run finds is kept in firmware/build/fuzz/corpus/<target>/ and the next run starts from it and from the
# seeds `make -C firmware fuzz` generates. --parallel runs the targets at once (one core each); --runs
# stops a target after N executions instead of at the time limit.
set -euo pipefail
cd "$(dirname "$0")/.."

parallel=0; runs=0; seconds=600; targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --parallel) parallel=1 ;;
    --runs) runs="${2:?--runs wants a number}"; shift ;;
    [0-9]*) seconds="$1" ;;
    serve|model_load) targets+=("$1") ;;
    *) echo "fuzz.sh: unknown argument $1 (see the comment at the top of scripts/fuzz.sh)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(serve model_load)

make -s -C firmware fuzz
dir=firmware/build/fuzz

run_one() {
  local t="$1"
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  local args=(-max_total_time="$seconds" -print_final_stats=1 -dict="firmware/tests/fuzz/$t.dict"
    -artifact_prefix="$dir/artifacts/$t/")
  [ "$runs" = 0 ] || args+=(-runs="$runs")
  local limit="${seconds}s"
  [ "$runs" = 0 ] || limit="$limit or $runs executions"
  echo "fuzz: $t for up to $limit, log $dir/$t.log"
  local rc=0
  "$dir/fuzz_$t" "${args[@]}" "$dir/corpus/$t" "$dir/seeds/$t" >"$dir/$t.log" 2>&1 || rc=$?
  summarize "$t" "$rc"
  return "$rc"
}

# One line per target from libFuzzer's final statistics and its last status line (coverage, features,
# corpus), plus the harness's own counts (frames run, blobs accepted).
summarize() {
  local t="$1" rc="$2" log="$dir/$1.log"
  local execs secs status extra
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)
  extra=$(grep -E "^fuzz_$t: " "$log" | tail -n 1 | sed "s/^fuzz_$t: //" || true)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $t: ${execs:-?} executions in ${secs:-?}s, $status${extra:+; $extra}"
  else
    echo "fuzz: $t FAILED (exit $rc) after ${execs:-?} executions: see $log and $dir/artifacts/$t/" >&2
    grep -E 'ERROR: |runtime error|SUMMARY: ' "$log" | head -n 5 >&2 || true
  fi
}

failed=0
if [ "$parallel" = 1 ]; then
  pids=()
  for t in "${targets[@]}"; do run_one "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
else
  for t in "${targets[@]}"; do run_one "$t" || failed=1; done
fi
exit "$failed"
