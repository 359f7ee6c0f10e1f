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
expect "resume rm run" r
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
((fails == 0)) || { echo "$fails failure(s)"; exit 1; }
