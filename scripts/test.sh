#!/usr/bin/env bash
# Sets up, builds and runs every test suite. Kernel-touching suites run inside scratch network and
# mount namespaces (see tests/CMakeLists.txt); must run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure "$@"
