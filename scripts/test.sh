#!/usr/bin/env bash
# Sets up, builds and runs every test suite, as CI does (.ci/run). Kernel-touching suites run
# inside scratch network and mount namespaces (see tests/CMakeLists.txt); must run as root.
# Steps: test dependencies and peers, the format check, a build with warnings as errors, the
# whole ctest suite (extra args go to ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/check-format.sh
scripts/build.sh -DTETHER_WERROR=ON
ctest --test-dir build --output-on-failure "$@"
