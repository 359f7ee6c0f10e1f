#!/usr/bin/env bash
# Long concurrency soak (docs/reliability.md): tests/soak/soak_run.sh in a private network and
# mount namespace. Usage: scripts/test-soak.sh [BIN_DIR] [soak_run options...]
#   default: build/bin, 16 workers, 100000 operations.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/bin}
[ $# -gt 0 ] && shift
exec unshare --net --mount --propagation private tests/soak/soak_run.sh --bin "$bin" \
  --workers 16 --ops 100000 "$@"
