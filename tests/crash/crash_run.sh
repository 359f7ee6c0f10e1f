#!/usr/bin/env bash
# Crash-consistency driver (docs/reliability.md, "Crash consistency"). Runs `tether net add` of
# bridge(ipMasq)+host-local+portmap (and bridge+host-local+masquerade+portmap) attachments and
# SIGKILLs them: at a named fault point (binaries built with -DTETHER_FAULT_INJECTION=ON; the
# plugin or the runtime kills itself there) or at a random time (the whole process group of
# `tether net add`, plugins included). Each crash is followed by `tether net del` (netns still
# there) or by removing the netns and `tether net gc --all`, then checked: no host veth, no lease
# or index entry, no nft element or iptables rule, no cache file, no pinned netns of the crashed
# container; the resident containers (attached for the whole run) keep their leases, their
# addresses are never handed to another container, and they answer ping from the host.
#
# Must run as root in a private network and mount namespace (ctest `crash` does):
#   unshare --net --mount --propagation private tests/crash/crash_run.sh [options]
# Options:
#   --bin DIR        directory of `tether` and our plugins (default build/bin)
#   --cni-path DIR   plugins to run (default: --bin); /usr/lib/cni for the reference plugins
#   --kills N        injected crashes (default 100)
#   --faults         cycle through the fault points as well as random kills (needs a
#                    -DTETHER_FAULT_INJECTION=ON build; without it, random kills only)
#   --report         count what is left behind instead of failing (reference plugins), scrub it
#   --seed S         RANDOM seed (default: pid)
# Exit: 0 when nothing leaked (or --report), 1 otherwise. Prints one summary line per category.
set -u
bin=build/bin cnipath="" kills=100 faults=0 report=0 seed=$$
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift ;;
    --cni-path) cnipath=$2; shift ;;
    --kills) kills=$2; shift ;;
    --faults) faults=1 ;;
    --report) report=1 ;;
    --seed) seed=$2; shift ;;
    *) echo "crash_run: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bin=$(cd "$bin" && pwd)
tether=$bin/tether
[ -n "$cnipath" ] || cnipath=$bin
RANDOM=$seed
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "crash_run: must run as root" >&2; exit 2; }
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "crash_run: refusing to run in the host's network namespace (use unshare)" >&2
    exit 2
fi

work=$(mktemp -d /tmp/tether-crash.XXXXXX)
mkdir -p /run/netns && mount -t tmpfs -o mode=0755 tetherncrash /run/netns || exit 2
cleanup() {
    for f in /run/netns/*; do [ -e "$f" ] && ip netns del "$(basename "$f")" 2>/dev/null; done
    umount /run/netns 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up
export NETCONFPATH=$work/net.d CNI_CACHE_DIR=$work/cache CNI_PATH=$cnipath
mkdir -p "$NETCONFPATH"
reference=0
[ "$cnipath" != "$bin" ] && reference=1
version=1.1.0
[ $reference = 1 ] && version=1.0.0 # the reference plugins here stop at 1.0.0
# Network 1: bridge with ipMasq + host-local + portmap. Network 2 (ours only): bridge +
# host-local + the chained masquerade plugin + portmap.
cat >"$NETCONFPATH/10-crashnet.conflist" <<EOF
{"cniVersion": "$version", "name": "crashnet", "plugins": [
  {"type": "bridge", "bridge": "crbr0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "subnet": "10.77.0.0/24", "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}
EOF
nets="crashnet"
if [ $reference = 0 ]; then
    cat >"$NETCONFPATH/20-crashmasq.conflist" <<EOF
{"cniVersion": "$version", "name": "crashmasq", "plugins": [
  {"type": "bridge", "bridge": "crbr1", "isGateway": true,
   "ipam": {"type": "host-local", "subnet": "10.78.0.0/24", "dataDir": "$work/ipam"}},
  {"type": "masquerade"},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}
EOF
    nets="crashnet crashmasq"
fi
read -r -a netlist <<<"$nets"

points=(host-local.after-reserve ipam.after-lease-file ipam.after-last-reserved bridge.after-bridge
    bridge.after-veth bridge.after-port iface.after-addresses bridge.after-address
    bridge.after-masq bridge.before-result masquerade.after-masq portmap.after-rules
    net.before-cache net.after-cache)

declare -A leaks=()
declare -A byStep=()
fail=0
leak() { # category cid detail
    leaks[$1]=$((${leaks[$1]:-0} + 1))
    byStep["$step/$1"]=$((${byStep["$step/$1"]:-0} + 1))
    [ $report = 1 ] || { echo "LEAK [$step] $1: $2 $3" >&2; fail=1; }
}
msnow() { echo $(($(date +%s%N) / 1000000)); }

# Residents: one per network, attached for the whole run.
declare -A resIp=()
residents=()
for net in "${netlist[@]}"; do
    ns=res-$net cid=resident-$net rport=$((20080 + ${#residents[@]}))
    ip netns add "$ns" && ip -n "$ns" link set lo up
    out=$("$tether" net add "$net" /run/netns/$ns --id $cid \
        --cap '{"portMappings":[{"hostPort":'$rport',"containerPort":80,"protocol":"tcp"}]}' --json) || {
        echo "crash_run: resident ADD on $net failed: $out" >&2
        exit 1
    }
    resIp[$cid]=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
    residents+=("$cid")
done
# A warm ADD (the bridge exists now) sets the window random kills are spread over.
ip netns add warm
t0=$(msnow)
"$tether" net add "${netlist[0]}" /run/netns/warm --id warm-up >/dev/null 2>&1 ||
    { echo "crash_run: warm-up ADD failed" >&2; exit 1; }
addms=$(($(msnow) - t0))
"$tether" net del "${netlist[0]}" /run/netns/warm --id warm-up >/dev/null 2>&1
ip netns del warm
maxdelay=$((addms * 3 / 4 + 2)) # random kills land anywhere in an ADD (most before it ends)

check_residents() {
    for cid in "${residents[@]}"; do
        local net=${cid#resident-} ip=${resIp[$cid]}
        grep -qs "^$cid" "$work/ipam/$net/$ip" || leak resident-lease "$cid" "lease of $ip lost or reassigned"
        ip netns exec res-$net true 2>/dev/null || true
        ping -c1 -W1 -q "$ip" >/dev/null 2>&1 || leak resident-ping "$cid" "$ip does not answer"
    done
}

host_veths() { ip -o link show type veth 2>/dev/null | awk -F'[ :@]+' '{print $2}' | sort; }
resVeths=$(host_veths)

check_veths() { # cid
    local extra
    extra=$(comm -13 <(echo "$resVeths") <(host_veths))
    [ -z "$extra" ] || {
        leak veth "$1" "$(echo $extra)"
        [ $report = 1 ] && for v in $extra; do ip link del "$v" 2>/dev/null; done
    }
}

check_clean() { # cid net ns
    local cid=$1 net=$2 ns=$3 n
    check_veths "$cid"
    n=$(grep -rls -- "$cid" "$work/ipam" 2>/dev/null | wc -l)
    [ "$n" -eq 0 ] || {
        leak lease "$cid" "$(grep -rls -- "$cid" "$work/ipam" | tr '\n' ' ')"
        [ $report = 1 ] && grep -rls -- "$cid" "$work/ipam" | xargs rm -f
    }
    n=$(nft list ruleset 2>/dev/null | grep -c -- "$cid")
    [ "$n" -eq 0 ] || leak nft "$cid" "$n ruleset lines"
    n=$( (iptables-save 2>/dev/null; ip6tables-save 2>/dev/null) | grep -c -- "$cid")
    [ "$n" -eq 0 ] || leak iptables "$cid" "$n rules"
    n=$(ls "$work/cache/results" 2>/dev/null | grep -c -- "$cid")
    [ "$n" -eq 0 ] || {
        leak cache "$cid" "cache file left"
        [ $report = 1 ] && rm -f "$work/cache/results/"*"$cid"*
    }
    [ ! -e "/run/netns/$ns" ] || leak netns "$cid" "/run/netns/$ns"
}

start=$(date +%s)
declare -A stepCount=()
for ((i = 0; i < kills; i++)); do
    net=${netlist[$((i % ${#netlist[@]}))]}
    ns=c$i cid=crash-$i-$RANDOM
    port=$((30000 + i % 20000))
    if [ $faults = 1 ] && [ $((i % 3)) -ne 2 ]; then
        step=${points[$((i / 3 * 2 % ${#points[@]} + i % 3))]}
        [ "$net" = crashnet ] && [ "$step" = masquerade.after-masq ] && step=bridge.after-masq
        [ "$net" = crashmasq ] && [ "$step" = bridge.after-masq ] && step=masquerade.after-masq
    else
        step=random
    fi
    ip netns add "$ns" && ip -n "$ns" link set lo up
    cap="{\"portMappings\":[{\"hostPort\":$port,\"containerPort\":80,\"protocol\":\"tcp\"}]}"
    if [ "$step" = random ]; then
        delay=$((RANDOM % (maxdelay + 1)))
        setsid "$tether" net add "$net" /run/netns/$ns --id "$cid" --cap "$cap" >/dev/null 2>&1 &
        pid=$!
        sleep "$(printf '0.%03d' "$delay")"
        kill -9 -- -"$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=$?
        [ $rc -eq 137 ] || step=random-late # the ADD finished before the kill
    else
        { TETHER_FAULT_POINT=$step "$tether" net add "$net" /run/netns/$ns --id "$cid" --cap "$cap" \
            >/dev/null 2>"$work/add.err"; } 2>/dev/null
        rc=$?
        # fired: the runtime itself was killed (137), or it reports its plugin killed by SIGKILL
        if [ $rc -ne 137 ] && ! grep -q "killed by signal 9" "$work/add.err"; then
            leak fault-not-fired "$cid" "rc=$rc $(head -c 300 "$work/add.err")"
        fi
    fi
    stepCount[$step]=$((${stepCount[$step]:-0} + 1))
    # Whatever the crash left: no resident address given to this container.
    got=$(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
    for r in "${residents[@]}"; do
        [ -z "$got" ] || [ "$got" != "${resIp[$r]}" ] || leak duplicate "$cid" "got $got of $r"
    done
    if [ $((i % 2)) -eq 0 ]; then
        "$tether" net del "$net" /run/netns/$ns --id "$cid" >/dev/null 2>&1 ||
            leak del-failed "$cid" "tether net del exited non-zero"
        n=$(ip -n "$ns" -o link show 2>/dev/null | grep -vc ': lo:')
        [ "$n" -eq 0 ] || leak container-link "$cid" "$n links left in the container"
        sleep 0.02 # a detached link deletion (docs/latency.md) finishes asynchronously
        check_veths "$cid" # before the netns goes (which would take the veth with it)
        ip netns del "$ns"
    else
        ip netns del "$ns"
        "$tether" net gc --all >/dev/null 2>&1 || leak gc-failed "$cid" "tether net gc --all exited non-zero"
    fi
    sleep 0.02 # a detached link deletion (docs/latency.md) finishes asynchronously
    check_clean "$cid" "$net" "$ns"
    [ $((i % 10)) -eq 9 ] && check_residents
done
step=end
check_residents
end=$(date +%s)

total=0
for k in "${!stepCount[@]}"; do total=$((total + ${stepCount[$k]})); done
echo "crash_run: $total crashes in $((end - start)) s, kills spread over ${maxdelay} ms ($( [ $reference = 1 ] && echo reference || echo tether) plugins from $cnipath)"
for k in $(printf '%s\n' "${!stepCount[@]}" | sort); do echo "  $k: ${stepCount[$k]}"; done
if [ ${#leaks[@]} -eq 0 ]; then
    echo "crash_run: nothing left behind"
else
    for k in $(printf '%s\n' "${!leaks[@]}" | sort); do echo "  left behind: $k x${leaks[$k]}"; done
    for k in $(printf '%s\n' "${!byStep[@]}" | sort); do echo "    at $k: ${byStep[$k]}"; done
fi
[ $report = 1 ] && exit 0
exit $fail
