#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy, every finding an error) over the production sources
# of BUILD_DIR's compile_commands.json: base, cni, libcni, libnet, ipam, nat, plugins, runtime,
# netns-fixtures. Tests, fuzz targets and benchmarks are left out. Exits 1 when any file has a
# finding (and lists those files), 0 when all are clean. Installs nothing: clang-tidy-16 comes
# from scripts/install-deps.sh --tests.
#   scripts/check-tidy.sh [BUILD_DIR] [FILE...]   (default build, all production files)
# Environment: JOBS=N parallel clang-tidy processes (default 2); CHECKS=... replaces the check
# list of .clang-tidy for this run (e.g. CHECKS='-*,clang-analyzer-*'); TIDY_CACHE=DIR keeps a
# stamp per clean file (default BUILD_DIR/tidy-cache, TIDY_CACHE= to disable), keyed by the
# file, every tracked header, .clang-tidy, CHECKS and the clang-tidy version, so an unchanged
# tree is checked again in seconds. TIDY_FILE_TIMEOUT=S (default 300) fails a file whose check
# runs longer than S seconds (a hung check fails the run and names the file; it is not skipped).
# clang-tidy-16 parses with clang 16, whose concepts level libstdc++ 12 does not accept for
# <expected>; the extra args give it the C++23 mode and the feature macro libstdc++ checks.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
tidy=$(command -v clang-tidy-16 || true)
if [[ -z "$tidy" ]]; then
    echo "check-tidy: clang-tidy-16 not found (scripts/install-deps.sh --tests installs it)" >&2
    exit 2
fi
if [[ ! -f "$build/compile_commands.json" ]]; then
    echo "check-tidy: $build/compile_commands.json missing (configure with cmake first)" >&2
    exit 2
fi
if (($# > 0)); then
    files=$(printf '%s\n' "$@")
else
    files=$(python3 -c '
import json, os, sys
root = os.getcwd() + "/"
dirs = ("base/", "cni/", "libcni/", "libnet/", "ipam/", "nat/", "plugins/", "runtime/",
        "netns-fixtures/")
seen = set()
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = f[len(root):] if f.startswith(root) else None
    if rel and rel.startswith(dirs) and rel.endswith(".cpp") and rel not in seen:
        seen.add(rel)
        print(rel)
' "$build/compile_commands.json")
fi

export TIDY_BIN=$tidy TIDY_BUILD=$build TIDY_CHECKS=${CHECKS:-}
export TIDY_FILE_TIMEOUT=${TIDY_FILE_TIMEOUT:-300}
export TIDY_CACHE=${TIDY_CACHE-$build/tidy-cache}
export TIDY_FAILED TIDY_TIMES
TIDY_FAILED=$(mktemp -d)
TIDY_TIMES=$TIDY_FAILED.times
trap 'rm -rf "$TIDY_FAILED" "$TIDY_TIMES"' EXIT
if [[ -n "$TIDY_CACHE" ]]; then
    mkdir -p "$TIDY_CACHE"
    # What every file's result depends on besides the file itself.
    export TIDY_COMMON
    TIDY_COMMON=$({
        "$tidy" --version
        printf 'checks=%s\n' "$TIDY_CHECKS"
        cat .clang-tidy
        git ls-files -z '*.hpp' '*.h' | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1)
fi

# One file: skipped when its stamp is cached, else checked; a finding marks the file failed.
check_one() {
    local f=$1 key=""
    if [[ -n "$TIDY_CACHE" ]]; then
        key=$( (echo "$TIDY_COMMON" && cat "$f") | sha256sum | cut -d' ' -f1)
        [[ -e "$TIDY_CACHE/$key" ]] && return 0
    fi
    local args=(-p "$TIDY_BUILD" --quiet --extra-arg=-std=c++2b
        --extra-arg=-Wno-builtin-macro-redefined --extra-arg=-Wno-unknown-warning-option
        --extra-arg=-U__cpp_concepts
        --extra-arg=-D__cpp_concepts=202002L)
    [[ -n "$TIDY_CHECKS" ]] && args+=("--checks=$TIDY_CHECKS")
    local out t0=$SECONDS
    local rc=0
    out=$(timeout "$TIDY_FILE_TIMEOUT" "$TIDY_BIN" "${args[@]}" "$f" 2>&1) || rc=$?
    if ((rc == 0)); then
        [[ -n "$key" ]] && : >"$TIDY_CACHE/$key"
    else
        : >"$TIDY_FAILED/${f//\//%}"
        ((rc == 124)) && out+=$'\n'"check-tidy: $f: timed out after $TIDY_FILE_TIMEOUT s (a check's pathological case: find it with --enable-check-profile)"
    fi
    echo "$((SECONDS - t0)) $f" >>"$TIDY_TIMES"
    # clang-tidy's "N warnings generated." counts suppressed warnings in system headers: noise.
    grep -v '^[0-9]* warnings\? generated\.$' <<<"$out" || true
}
export -f check_one

count=$(wc -l <<<"$files")
echo "check-tidy: $count files, ${JOBS:-2} jobs"
start=$SECONDS
xargs -P "${JOBS:-2}" -I{} bash -c 'check_one "$1"' _ {} <<<"$files"
# The slowest files checked this run (wall seconds each), to see what a budget overrun comes from.
if [[ -s "$TIDY_TIMES" ]]; then
    echo "check-tidy: $(wc -l <"$TIDY_TIMES") files checked, slowest (s):" \
        "$(sort -rn "$TIDY_TIMES" | head -n 5 | tr '\n' ' ')"
fi
failed=$(ls "$TIDY_FAILED")
if [[ -n "$failed" ]]; then
    echo "check-tidy: findings in $(wc -l <<<"$failed") files ($((SECONDS - start)) s):"
    sed 's/^/  /; s/%/\//g' <<<"$failed"
    exit 1
fi
echo "check-tidy: clean ($((SECONDS - start)) s)"
