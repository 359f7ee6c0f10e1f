#!/usr/bin/env bash
# Man pages cannot drift from the CLI or the plugins: every verb `tether --help` lists has a
# tether-VERB(1) (the CLI11 "Subcommands:" and the launcher's "Containers:" section), every
# subcommand of `tether net` (from net's own help) is described in tether-net(1), every plugin
# (build/packaging/plugin_names.txt, written by packaging/CMakeLists.txt; build/bin also holds the
# benchmark drivers) is built in build/bin and has a section in tether-cni(7), and every page
# renders without man warnings.
# Usage: man_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
cmake --build "$build" -j2 --target tether tether-cni masquerade firewall tether-man >/dev/null
man_dir=$build/packaging/man
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The verbs of a help text's sections: an indented "NAME  description" line under "Subcommands:"
# or "Containers:"; any other unindented line (a section header, "Run 'tether VERB --help' ...")
# ends the section.
section_verbs() {
    awk '/^(Subcommands|Containers):$/ { on = 1; next }
         /^[^ ]/ { on = 0; next }
         on && /^  [a-z]/ { print $1 }'
}
verbs=$("$build/bin/tether" --help | section_verbs)
[[ -n "$verbs" ]] || fail "no verbs parsed from tether --help"
for v in $verbs; do
    [[ -f "$man_dir/tether-$v.1" ]] || fail "verb $v: no man page tether-$v.1"
    grep -q "tether\\\\-$v\|tether-$v" "$man_dir/tether.1" || fail "verb $v: not in tether(1)"
done
for v in run create start stop restart wait logs ps inspect exec net netns fixture; do
    grep -qx "$v" <<<"$verbs" || fail "verb $v: not parsed from tether --help"
done
[[ $(sort <<<"$verbs" | uniq -d) == "" ]] || fail "verbs listed twice: $(sort <<<"$verbs" | uniq -d)"
subs=$("$build/bin/tether" net --help | section_verbs)
[[ -n "$subs" ]] || fail "no subcommands parsed from tether net --help"
for h in net netns fixture; do
    ! "$build/bin/tether" $h --help | grep -q '^Containers:' ||
        fail "tether $h --help repeats the top-level Containers: footer"
done
for s in $subs; do
    grep -q "^\\\\fB$s" "$man_dir/tether-net.1" || fail "net $s: not described in tether-net(1)"
done
plugin_list=$build/packaging/plugin_names.txt
[[ -s "$plugin_list" ]] || fail "no plugin list $plugin_list"
plugins=$(cat "$plugin_list" 2>/dev/null || true)
for n in $plugins; do
    [[ -x "$build/bin/$n" ]] || fail "plugin $n: not built in build/bin"
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
echo "ok: $(wc -w <<<"$verbs") verbs, $(wc -w <<<"$subs") net subcommands, $(wc -w <<<"$plugins") plugins, $n pages"
