#!/usr/bin/env bash
# Configures and builds tether into ./build (Release).
#   scripts/build.sh [--main] [cmake configure args...]
# --main builds only what `tether run` needs (the CLI and the plugins); without it, everything
# (tests and benchmarks included). Other args go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
if [[ "${1:-}" == --main ]]; then
  shift
  targets=(--target tether tether-cni masquerade)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
