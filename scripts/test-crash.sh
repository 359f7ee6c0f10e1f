#!/usr/bin/env bash
# Long crash-consistency run (docs/reliability.md): builds build-fault (-DTETHER_FAULT_INJECTION=ON,
# so the fault points exist) and runs tests/crash/crash_run.sh with fault points and random kills
# in a private network and mount namespace; then the same random kills against the reference
# plugins in /usr/lib/cni (report only: what they leave behind is counted, not failed).
# Usage: scripts/test-crash.sh [KILLS]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-1000}
cmake -S . -B build-fault -DCMAKE_BUILD_TYPE=Release -DTETHER_BENCH=OFF -DTETHER_FAULT_INJECTION=ON \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build build-fault -j"${JOBS:-2}" --target tether-cni tether masquerade
rc=0
unshare --net --mount --propagation private tests/crash/crash_run.sh --bin build-fault/bin \
  --kills "$kills" --faults || rc=$?
if [ -x /usr/lib/cni/bridge ]; then
  unshare --net --mount --propagation private tests/crash/crash_run.sh --bin build-fault/bin \
    --cni-path /usr/lib/cni --kills "$((kills / 4))" --report
fi
exit $rc
