#!/usr/bin/env bash
# Short bounded fuzz run for CI: every libFuzzer target for 10 s from its seed corpus
# (tests/fuzz/run.sh). Non-zero on any crash or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
exec tests/fuzz/run.sh "${FUZZ_SECONDS:-10}"
