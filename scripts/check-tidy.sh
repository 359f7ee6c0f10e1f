#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy, every finding an error) over the production sources
# of BUILD_DIR's compile_commands.json: base, cni, libnet, ipam, nat, plugins, runtime,
# netns-fixtures. Tests, fuzz targets and benchmarks are left out.
#   scripts/check-tidy.sh [BUILD_DIR]   (default build; JOBS=N to change the parallelism)
# clang-tidy-16 parses with clang 16, whose concepts level libstdc++ 12 does not accept for
# <expected>; the extra args give it the C++23 mode and the feature macro libstdc++ checks.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tidy=$(command -v clang-tidy-16 || command -v clang-tidy)
files=$(python3 -c '
import json, os, sys
root = os.getcwd() + "/"
dirs = ("base/", "cni/", "libnet/", "ipam/", "nat/", "plugins/", "runtime/", "netns-fixtures/")
seen = set()
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = f[len(root):] if f.startswith(root) else None
    if rel and rel.startswith(dirs) and rel.endswith(".cpp") and rel not in seen:
        seen.add(rel)
        print(rel)
' "$build/compile_commands.json")
echo "check-tidy: $(wc -w <<<"$files") files"
xargs -P "${JOBS:-2}" -n 4 "$tidy" -p "$build" --quiet \
    --extra-arg=-std=c++2b --extra-arg=-Wno-macro-redefined --extra-arg=-Wno-builtin-macro-redefined \
    --extra-arg=-D__cpp_concepts=202002L <<<"$files"
echo "check-tidy: clean"
