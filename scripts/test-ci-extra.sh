#!/usr/bin/env bash
# CI's extra stage, run by scripts/test.sh after the normal suite (docs/reliability.md):
#   1. sanitizers: the whole ctest suite under ASan + UBSan (scripts/test-sanitize.sh, build-asan/);
#   2. fuzz: every libFuzzer target for FUZZ_SECONDS (default 10) s (scripts/test-fuzz.sh,
#      build-fuzz/; installs clang-16 when missing).
# Both parts always run; each is timed. Exit 0 only when both pass. Must run as root (the netns
# and e2e suites). Usage:
#   scripts/test-ci-extra.sh [ctest args for the sanitizer suite...]
# CI_EXTRA_SKIP="sanitize" or "fuzz" (or both) leaves a part out; JOBS bounds both builds (2).
set -uo pipefail
cd "$(dirname "$0")/.."
export JOBS=${JOBS:-2} FUZZ_JOBS=${FUZZ_JOBS:-${JOBS:-2}}
skip=" ${CI_EXTRA_SKIP:-} "
summary=()
rc=0

# part NAME COMMAND... : runs one part, records its wall time and result.
part() {
  local name=$1 start end r=0
  shift
  if [[ $skip == *" $name "* ]]; then
    summary+=("$name: skipped")
    return
  fi
  echo "=== test-ci-extra: $name: $*"
  start=$(date +%s)
  "$@" || r=$?
  end=$(date +%s)
  summary+=("$name: $((end - start)) s, $([ $r -eq 0 ] && echo passed || echo "FAILED (rc=$r)")")
  [ $r -eq 0 ] || rc=1
}

t0=$(date +%s)
part sanitize scripts/test-sanitize.sh "$@"
part fuzz scripts/test-fuzz.sh
echo "=== test-ci-extra summary ($(($(date +%s) - t0)) s in total)"
printf '  %s\n' "${summary[@]}"
exit $rc
