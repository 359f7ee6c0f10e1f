#!/usr/bin/env bash
# Man pages cannot drift from the CLI or the plugins: every verb `tether --help` lists has a
# tether-VERB(1), every subcommand of `tether net` is described in tether-net(1), every plugin in
# build/bin has a section in tether-cni(7), and every page renders without man warnings.
# Usage: man_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
cmake --build "$build" -j2 --target tether tether-cni masquerade tether-man >/dev/null
man_dir=$build/packaging/man
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

verbs=$("$build/bin/tether" --help | awk '/^Subcommands:/ { on = 1; next } on && NF { print $1 }')
[[ -n "$verbs" ]] || fail "no verbs parsed from tether --help"
for v in $verbs; do
    [[ -f "$man_dir/tether-$v.1" ]] || fail "verb $v: no man page tether-$v.1"
    grep -q "tether\\\\-$v\|tether-$v" "$man_dir/tether.1" || fail "verb $v: not in tether(1)"
done
subs=$("$build/bin/tether" net --help | awk '/^Subcommands:/ { on = 1; next } on && NF { print $1 }')
for s in $subs; do
    grep -q "^\\\\fB$s" "$man_dir/tether-net.1" || fail "net $s: not described in tether-net(1)"
done
for f in "$build"/bin/*; do
    n=$(basename "$f")
    [[ "$n" == tether ]] && continue
    grep -qx ".SS \"$n\"" "$man_dir/tether-cni.7" || fail "plugin $n: no section in tether-cni(7)"
done
for d in "$src"/docs/plugins/*.md; do
    n=$(basename "$d" .md)
    grep -qx ".SS \"$n\"" "$man_dir/tether-cni.7" || fail "docs/plugins/$n.md: not in tether-cni(7)"
done
for p in "$man_dir"/*.[17]; do
    warn=$(MANWIDTH=100 man --warnings -l "$p" 2>&1 >/dev/null || true)
    [[ -z "$warn" ]] || fail "$(basename "$p") renders with warnings: $warn"
    lexgrog "$p" >/dev/null || fail "$(basename "$p"): no whatis entry"
done
n=$(ls "$man_dir" | wc -l)
if ((fails)); then echo "$fails failure(s)"; exit 1; fi
echo "ok: $(wc -w <<<"$verbs") verbs, $(ls "$build"/bin | wc -l) plugin/bin names, $n pages"
