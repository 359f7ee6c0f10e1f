#!/usr/bin/env bash
# Sources the bash completion and simulates completions (COMP_WORDS/COMP_CWORD, as readline would
# set them): verbs, flags, container IDs from TETHER_STATE_DIR, network names from NETCONFPATH
# through `tether net ls`.
# Usage: completion_test.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state/web1" "$tmp/state/db2" "$tmp/state/fixtures" "$tmp/net.d"
cat >"$tmp/net.d/10-lan.conflist" <<'JSON'
{"cniVersion": "1.1.0", "name": "lan", "plugins": [{"type": "loopback"}]}
JSON
export TETHER_STATE_DIR=$tmp/state NETCONFPATH=$tmp/net.d CNI_CACHE_DIR=$tmp/cache
# shellcheck source=/dev/null
source "$src/packaging/completion/tether.bash"
fails=0
# complete WORDS... : the last word is the one being completed; prints COMPREPLY sorted.
complete_words() {
    COMP_WORDS=("$build/bin/tether" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _tether
    printf '%s\n' "${COMPREPLY[@]}" | sort | xargs
}
expect() { # expected-output words...
    local want=$1
    shift
    local got
    got=$(complete_words "$@")
    if [[ "$got" == "$want" ]]; then
        echo "ok: tether $* -> $got"
    else
        echo "FAIL: tether $*: want [$want], got [$got]"
        fails=$((fails + 1))
    fi
}
expect "restart resume rm run" r
expect "start stop" st
expect "net netns" ne
expect "--net --network" run --ne
expect "default host lan none" run --net ""
expect "db2 web1" inspect ""
expect "web1" rm db2 w
expect "--force" rm --fo
expect "--help add check del gc ls status" net ""
expect "--all" net gc --a
expect "lan" net add l
expect "down" fixture do
expect "--detach" run --det
# The container lifecycle verbs: container IDs for each, their flags, values skipped.
expect "db2 web1" stop ""
expect "db2 web1" restart -t 3 ""
expect "db2 web1" start web1 ""
expect "db2" wait d
expect "db2 web1" unpause ""
expect "--time" stop --ti
expect "--tail --timestamps" logs --t
expect "web1" logs -n 5 w
expect "" logs web1 ""
expect "web1" exec -e K=V w
expect "--stop-signal --stop-timeout" run --stop-
expect "--log-opt" create --log
expect "TERM" run --stop-signal TE
expect "json table" ps --format ""
expect "--no-trunc" ps --no
# Every long flag `tether VERB --help` lists is completed for VERB (the completion cannot drift).
for v in run create start stop restart kill wait logs ps inspect exec pause resume unpause rm gc; do
    got=" $(complete_words "$v" --) "
    # The option column: "  -t, --time SECONDS" (names within the first 30 characters).
    for f in $("$build/bin/tether" "$v" --help | grep -E '^ +-' | cut -c1-30 |
        grep -oE '(^|[ ,])--[a-z][a-z-]*' | tr -d ' ,'); do
        [[ "$got" == *" $f "* ]] || { echo "FAIL: tether $v --: $f not completed"; fails=$((fails + 1)); }
        # zsh: not simulated (needs zpty); the flag must at least be named in _tether.
        grep -qE -- "(^|[ {,'*])$f([][,}]|$)" "$src/packaging/completion/_tether" ||
            { echo "FAIL: _tether: $v $f missing"; fails=$((fails + 1)); }
    done
    # zsh: the verb is in the command list (NAME\:"description").
    grep -qE "(^|[ (])$v\\\\:" "$src/packaging/completion/_tether" ||
        { echo "FAIL: _tether: verb $v missing"; fails=$((fails + 1)); }
done
((fails == 0)) || { echo "$fails failure(s)"; exit 1; }
