#!/usr/bin/env bash
# Concurrency soak (docs/reliability.md, "Concurrency soak"): W workers (default 16) churn
# `tether net add` / `tether net del` of bridge(ipMasq)+host-local+portmap attachments on one
# network, each worker in its own netns with a fresh container ID per cycle, while a checker
# loop verifies, continuously:
#   - addresses are unique among live attachments (and each live address's lease names its owner);
#   - nftables: every attachment live across the check has exactly the elements of one attachment
#     (its portmap mapping and its masquerade elements), and no element belongs to an attachment
#     whose DEL had finished before the ruleset was read;
#   - every attachment live across the check answers ping from the host (the bridge gateway);
# and at the end: no veth, lease, index entry, nft element, cache file of any attachment is left.
#
# Must run as root in a private network and mount namespace (ctest `soak` does):
#   unshare --net --mount --propagation private tests/soak/soak_run.sh [options]
# Options: --bin DIR (tether + plugins, default build/bin), --workers W (16),
#          --ops N (ADD + DEL operations in total, default 2000), --seconds S (stop after S s)
# Exit 0 when no invariant broke, 1 otherwise; prints operations, rate and checks done.
set -u
bin=build/bin workers=16 ops=2000 seconds=0
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift ;;
    --workers) workers=$2; shift ;;
    --ops) ops=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    *) echo "soak_run: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bin=$(cd "$bin" && pwd)
tether=$bin/tether
[ "$(id -u)" = 0 ] || { echo "soak_run: must run as root" >&2; exit 2; }
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "soak_run: refusing to run in the host's network namespace (use unshare)" >&2
    exit 2
fi
work=$(mktemp -d /tmp/tether-soak.XXXXXX)
mkdir -p /run/netns && mount -t tmpfs -o mode=0755 tethersoak /run/netns || exit 2
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    for f in /run/netns/*; do [ -e "$f" ] && ip netns del "$(basename "$f")" 2>/dev/null; done
    umount /run/netns 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up
export NETCONFPATH=$work/net.d CNI_CACHE_DIR=$work/cache CNI_PATH=$bin
mkdir -p "$NETCONFPATH" "$work/live" "$work/busy" "$work/done" "$work/ops" "$work/fail"
cat >"$NETCONFPATH/10-soaknet.conflist" <<EOF
{"cniVersion": "1.1.0", "name": "soaknet", "plugins": [
  {"type": "bridge", "bridge": "soakbr0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "subnet": "10.79.0.0/22", "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}
EOF
msnow() { echo $(($(date +%s%N) / 1000000)); }
now0=$(date +%s)
per=$(((ops + 2 * workers - 1) / (2 * workers))) # cycles per worker

worker() { # k
    local k=$1 ns=w$1 n=0 cid out ip rc
    ip netns add "$ns" && ip -n "$ns" link set lo up
    while [ $n -lt "$per" ]; do
        [ "$seconds" -gt 0 ] && [ $(($(date +%s) - now0)) -ge "$seconds" ] && break
        cid=soak-$k-$n
        : >"$work/busy/$cid"
        out=$("$tether" net add soaknet /run/netns/$ns --id "$cid" \
            --cap "{\"portMappings\":[{\"hostPort\":$((40000 + k)),\"containerPort\":80,\"protocol\":\"tcp\"}]}" --json 2>&1)
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "ADD $cid: rc=$rc $out" >>"$work/fail/$k"
        else
            ip=${out#*\"address\": \"}
            ip=${ip%%/*}
            echo "$ip" >"$work/live/.$cid" && mv "$work/live/.$cid" "$work/live/$cid"
        fi
        echo >>"$work/ops/$k"
        sleep "$((RANDOM % 2)).$((RANDOM % 10))" # live long enough for the checker to see it
        rm -f "$work/live/$cid"
        out=$("$tether" net del soaknet /run/netns/$ns --id "$cid" 2>&1) ||
            echo "DEL $cid: $out" >>"$work/fail/$k"
        msnow >"$work/done/$cid"
        rm -f "$work/busy/$cid"
        echo >>"$work/ops/$k"
        n=$((n + 1))
    done
}

ip netns add probe && ip -n probe link set lo up
# Elements (and rules) one attachment owns, measured with one ADD before the churn starts.
probe=$("$tether" net add soaknet /run/netns/probe --id soak-probe \
    --cap '{"portMappings":[{"hostPort":39999,"containerPort":80,"protocol":"tcp"}]}' --json 2>&1) ||
    { echo "soak_run: probe ADD failed: $probe" >&2; exit 1; }
perAttach=$(nft list table inet tether | grep -o 'soaknet/soak-probe/eth0' | wc -l)
"$tether" net del soaknet /run/netns/probe --id soak-probe || exit 1
[ "$perAttach" -gt 0 ] || { echo "soak_run: the probe ADD made no nft element" >&2; exit 1; }

for ((k = 0; k < workers; k++)); do
    worker $k &
    pids+=($!)
done

violations=0 checks=0 pings=0
violation() { echo "VIOLATION: $*" >&2; violations=$((violations + 1)); }
snapshot_live() { for f in "$work/live"/*; do [ -e "$f" ] && echo "$(basename "$f") $(cat "$f" 2>/dev/null)"; done; }
check_once() {
    local before after stable t0 ruleset cid ip n
    before=$(snapshot_live | sort)
    t0=$(msnow)
    ruleset=$(nft list table inet tether 2>/dev/null | grep -o 'soaknet/[^/"]*/eth0' | sort | uniq -c)
    after=$(snapshot_live | sort)
    stable=$(comm -12 <(echo "$before") <(echo "$after"))
    # unique addresses among attachments live at one instant
    n=$(echo "$before" | awk 'NF==2 {print $2}' | sort | uniq -d | wc -l)
    [ "$n" -eq 0 ] || violation "duplicate live addresses: $(echo "$before" | awk 'NF==2 {print $2}' | sort | uniq -d | tr '\n' ' ')"
    while read -r cid ip; do
        [ -n "$cid" ] || continue
        [ -n "$ip" ] || continue
        n=$(echo "$ruleset" | awk -v t="soaknet/$cid/eth0" '$2==t {print $1}')
        [ "${n:-0}" -eq "$perAttach" ] || violation "$cid live with ${n:-0} nft elements (want $perAttach)"
        # (a failure counts only when the attachment is still live afterwards: its DEL may
        # have started since the snapshot)
        grep -qs "^$cid" "$work/ipam/soaknet/$ip" || [ ! -e "$work/live/$cid" ] ||
            violation "$cid live but lease $ip names $(head -c 40 "$work/ipam/soaknet/$ip" 2>/dev/null)"
        if ping -c1 -W1 -q "$ip" >/dev/null 2>&1; then
            pings=$((pings + 1))
        elif [ -e "$work/live/$cid" ]; then # still live after the ping failed
            violation "$cid ($ip) live but does not answer ping"
        fi
    done <<<"$stable"
    # elements of attachments whose DEL finished before the ruleset was read
    while read -r count tag; do
        [ -n "$tag" ] || continue
        cid=${tag#soaknet/}
        cid=${cid%/eth0}
        [ "$cid" = soak-probe ] && continue
        local doneAt
        doneAt=$(cat "$work/done/$cid" 2>/dev/null)
        if [ -n "$doneAt" ] && [ "$doneAt" -lt "$t0" ]; then
            violation "$cid: $count nft elements after its DEL"
        fi
    done <<<"$ruleset"
    checks=$((checks + 1))
}

running() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
    check_once
    sleep 0.2
done
wait
check_once
end=$(date +%s)
total=$(cat "$work"/ops/* 2>/dev/null | wc -l)
failed=$(cat "$work"/fail/* 2>/dev/null | wc -l)
[ "$failed" -eq 0 ] || { violation "$failed operations failed"; head -5 "$work"/fail/* >&2; }
# nothing left at the end
sleep 0.2
n=$(ip -o link show type veth | grep -c .)
[ "$n" -eq 0 ] || violation "$n veths left after every DEL"
n=$(ls "$work/ipam/soaknet" 2>/dev/null | grep -cE '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$')
[ "$n" -eq 0 ] || violation "$n leases left"
n=$(grep -rls soak- "$work/ipam" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || violation "$n files in the IPAM dir still name an attachment"
n=$(nft list ruleset 2>/dev/null | grep -c 'soaknet/')
[ "$n" -eq 0 ] || violation "$n nft lines still tagged soaknet/"
n=$(ls "$work/cache/results" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || violation "$n cache files left"
secs=$((end - now0))
echo "soak_run: $workers workers, $total operations (ADD+DEL) in $secs s ($((total / (secs > 0 ? secs : 1))) ops/s), $checks checks, $pings pings answered, $violations violations"
[ "$violations" -eq 0 ]
