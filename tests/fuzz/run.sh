#!/usr/bin/env bash
# Builds the libFuzzer targets (clang++-16, ASan + UBSan) in build-fuzz and runs each one, one at
# a time, for the given number of seconds (default 20) from its seed corpus in
# tests/fuzz/corpus/<target>/. Prints the executions per target; exits non-zero on any crash,
# leak, UB report or broken invariant (the reproducer is left in build-fuzz/artifacts/).
#   tests/fuzz/run.sh [seconds-per-target] [target...]
# FUZZ_JOBS (default 2) bounds the build; FUZZ_CXX/FUZZ_CC pick the compiler.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:-20}
shift || true
all=(netconf skel result cni_args conflist topology launcher_options dhcp)
targets=("${@:-${all[@]}}")
cxx=${FUZZ_CXX:-clang++-16}
cc=${FUZZ_CC:-clang-16}
install_clang() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    clang-16 libclang-rt-16-dev >/dev/null
}
if [[ -z "${FUZZ_CXX:-}" ]] && { ! command -v "$cxx" >/dev/null ||
  [[ ! -e /usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a ]]; }; then
  # clang 14 (Debian 12's default) cannot compile libstdc++'s std::expected; clang 16 can.
  # A fresh machine may have no package lists yet: update once when the first try fails.
  echo "fuzz: installing clang-16 and its fuzzer/sanitizer runtimes"
  install_clang || { apt-get update -qq && install_clang; }
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_COMPILER="$cc" "${launcher[@]}" -DTETHER_FUZZ=ON -DTETHER_TESTS=OFF \
  -DTETHER_BENCH=OFF -DTETHER_STATIC_RUNTIME=OFF >/dev/null
cmake --build build-fuzz -j"${FUZZ_JOBS:-2}" --target "${targets[@]/#/fuzz_}" >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p build-fuzz/artifacts build-fuzz/logs
total=0
failed=()
for t in "${targets[@]}"; do
  work=build-fuzz/corpus-work/$t # grows with what the run finds; the seeds stay untouched
  mkdir -p "$work"
  log=build-fuzz/logs/$t.log
  start=$(date +%s)
  rc=0
  build-fuzz/fuzz/fuzz_"$t" -max_len=65536 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
    "$work" "tests/fuzz/corpus/$t" </dev/null >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  printf 'fuzz %-18s %10s execs in %3ss  rc=%s\n' "$t" "$execs" "$(($(date +%s) - start))" "$rc"
  if ((rc != 0)); then
    failed+=("$t")
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -20 || true
  fi
done
echo "fuzz total: $total executions over ${#targets[@]} targets"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (logs in $root/build-fuzz/logs, inputs in build-fuzz/artifacts)"
  exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
