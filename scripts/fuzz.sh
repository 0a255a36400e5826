#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (docs/security.md, "Fuzzing"), one at a time:
#   scripts/fuzz.sh [--minutes N] [target...]      (default: 5 minutes each, every target)
# Configures and builds the clang build directory build-fuzz (or $ASSAS_FUZZ_BUILD), runs each
# target for N minutes on a copy of its corpus (tests/fuzz/corpus/<target>/), prints per target
# the executions, exec/s, corpus size, coverage (libFuzzer's cov: and ft:) and any crash file, and
# merges the inputs that add coverage edges back into the corpus (-merge=1). Exits 1 if a target
# crashed; the crash file, the log and the run's corpus stay under build-fuzz/fuzz-runs/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit "$1"
}

minutes=5
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) [ $# -ge 2 ] || usage 2; minutes=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) usage 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$minutes" in ''|*[!0-9]*) echo "fuzz: --minutes takes a whole number" >&2; exit 2 ;; esac
all=()
for source in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$source" _fuzz.cpp)
  all+=("$name")
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/${t}_fuzz.cpp" ] || { echo "fuzz: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done

build=${ASSAS_FUZZ_BUILD:-build-fuzz}
# The libraries get libFuzzer's coverage instrumentation (fuzzer-no-link) and ASan+UBSan; only
# the fuzz_<target> executables link libFuzzer's main. -Werror stays off: the project's warning
# set is tuned for GCC, and this build is for finding bugs, not warnings.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASSAS_FUZZ=ON -DASSAS_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DASSAS_BUILD_INTEGRATION_TESTS=OFF >/dev/null
ninja -C "$build" -j"${JOBS:-2}" "${targets[@]/#/fuzz_}"

runs="$build/fuzz-runs/$(date -u +%Y%m%dT%H%M%SZ)"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
failed=0
for t in "${targets[@]}"; do
  work="$runs/$t"
  corpus="tests/fuzz/corpus/$t"
  mkdir -p "$work/corpus" "$work/artifacts" "$corpus"
  cp -r "$corpus/." "$work/corpus/"
  echo "== $t: $minutes min"
  rc=0
  # -timeout: an input that takes 10 s is a finding (a hostile peer could send it), not a wait.
  "$build/tests/fuzz/fuzz_$t" -max_total_time=$((minutes * 60)) -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 ||
    rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "$work/artifacts" -type f | tr '\n' ' ')
  before=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    # Coverage edges only (no hit counts): what keeps the committed corpus small.
    "$build/tests/fuzz/fuzz_$t" -merge=1 -use_counters=0 -artifact_prefix="$work/artifacts/" \
      "$corpus" "$work/corpus" >"$work/merge.log" 2>&1 ||
      echo "fuzz: merging $t failed, see $work/merge.log" >&2
  else
    failed=1
  fi
  after=$(find "$corpus" -type f | wc -l)
  size=$(du -sk "$corpus" | cut -f1)
  line=$(printf '%-15s execs %-10s exec/s %-7s cov %-6s ft %-6s corpus %s->%s files (%s KiB)' \
    "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$before" "$after" "$size")
  [ -z "$crashes" ] || line+=" CRASH: $crashes"
  [ $rc -eq 0 ] || [ -n "$crashes" ] || line+=" FAILED (exit $rc), see $work/log"
  echo "$line"
  summary+=("$line")
done
echo "== summary (runs in $runs)"
printf '%s\n' "${summary[@]}"
exit $failed
