#!/usr/bin/env bash
# Builds everything with g++ AddressSanitizer + UndefinedBehaviorSanitizer in build-asan and runs
# the whole ctest suite (unit, netns, e2e) against it. Plugins executed by the tests are the
# sanitized binaries of the same build. Must run as root (netns/e2e suites). Usage:
#   scripts/test-sanitize.sh [ctest args...]
# Leak detection is on; third-party leaks are suppressed in tests/sanitize/lsan.supp (each entry
# names its library). UB aborts the process (halt_on_error, -fno-sanitize-recover).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
jobs=${JOBS:-2}
# -O1 -g1: compiles faster than RelWithDebInfo (-O2 -g) under ASan and keeps file:line in every
# report. SANITIZE_OPT overrides the flags (e.g. "-O2 -g").
opt=${SANITIZE_OPT:--O1 -g1}
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=None -DTETHER_BENCH=OFF \
  -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DTETHER_STATIC_RUNTIME=OFF \
  "-DCMAKE_CXX_FLAGS=$opt $san" "-DCMAKE_C_FLAGS=$opt $san" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
# SANITIZE_TARGETS (space-separated) builds only those targets, for a partial local run; CI builds
# everything.
read -ra targets <<<"${SANITIZE_TARGETS:-all}"
cmake --build build-asan -j"$jobs" --target "${targets[@]}"
built=$(date +%s)
# CPU time of the build (user, system): comparable across machines, unlike wall time.
times >"$root/build-asan/.build-cpu" # 2nd line: children's user and system time
buildcpu=$(tail -1 "$root/build-asan/.build-cpu")
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tests/sanitize/ubsan.supp"
rc=0
ctest --test-dir build-asan --output-on-failure "$@" || rc=$?
end=$(date +%s)
echo "test-sanitize: build $((built - start)) s (CPU of build: $buildcpu), tests $((end - built)) s, total $((end - start)) s (rc=$rc)"
exit $rc
