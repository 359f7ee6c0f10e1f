#!/usr/bin/env bash
# Fails when a tracked C/C++ file differs from what clang-format (.clang-format) makes of it, and
# names the files. Fix with: git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format --dry-run 2>&1 |
    sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning:.*/\1/p' | sort -u)
if [[ -n "$bad" ]]; then
    echo "check-format: not clang-formatted:"
    sed 's/^/  /' <<<"$bad"
    exit 1
fi
echo "check-format: $(git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | wc -l) files clean"
