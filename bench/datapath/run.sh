#!/usr/bin/env bash
# Data-path benchmark: new TCP connections per second and one connection's throughput through
# bridge(ipMasq) + host-local + portmap with N containers attached and mapped, ours (build/bin)
# and the reference plugins (/usr/lib/cni) in the same run, same kernel, same generator.
#   bench/datapath/run.sh [COUNTS...]        (default: 10 100 1000; results to stdout)
#   TRIALS=5 SECS=2 CONC=32 STREAM_BYTES=2147483648 IMPLS="tether reference"
# Topology, all inside one scratch network + mount namespace (unshare): that namespace is the
# "node" (the bridge dpbr0 10.88.0.0/16, the NAT rules, host ports 20000+i); a "remote" netns is
# routed to it over a veth (node 192.0.2.1, remote 192.0.2.2); container i has its own netns and
# a listening socket on 8080 (one tcpbench server process holds the listeners of every netns).
# Measured, each TRIALS times for SECS seconds (median reported):
#   hostport: remote -> 192.0.2.1:<20000+i> (DNAT to container i:8080), for the first and the last
#             container attached;
#   masq:     container i -> 192.0.2.2:9000 (masqueraded to 192.0.2.1), first and last container;
#   stream:   one connection, STREAM_BYTES each way of the NAT (remote -> host port, container ->
#             remote).
# Conntrack: the node's TIME_WAIT timeout is 1 s (a per-netns sysctl, set in the scratch netns
# only); nf_conntrack_max cannot be changed from a non-initial netns and is printed. The server
# closes first, so TIME_WAIT sits on the server and the client never runs out of ports; the
# clients' ephemeral port range is widened inside the scratch namespaces.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TETHER_BIN_DIR:-$root/build/bin}
ref=${REFERENCE_CNI_DIR:-/usr/lib/cni}
counts=${*:-"10 100 1000"}
TRIALS=${TRIALS:-5} SECS=${SECS:-2} CONC=${CONC:-32} STREAM_BYTES=${STREAM_BYTES:-2147483648}
IMPLS=${IMPLS:-"tether reference"}
export TRIALS SECS CONC STREAM_BYTES IMPLS

if [[ -z ${TETHER_DP_INNER:-} ]]; then
  exec env TETHER_DP_INNER=1 unshare --net --mount --propagation private "$0" "$@"
fi

work=$(mktemp -d /tmp/tether-bench-dp.XXXXXX)
mount -t tmpfs -o mode=711 tmpfs "$work" # pins, IPAM files, state: gone with the namespace
mount -t tmpfs -o mode=755 tmpfs /run    # `ip netns` pins of this mount namespace only
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  awk -v w="$work" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$work/ours" "$work/reference" "$work/ns"
for p in bridge host-local portmap; do
  ln -s "$bin/$p" "$work/ours/$p"
  ln -s "$ref/$p" "$work/reference/$p"
done
ip link set lo up
ip netns add remote
ip link add rem0 type veth peer name eth0 netns remote
ip addr add 192.0.2.1/24 dev rem0 && ip link set rem0 up
ip -n remote link set lo up && ip -n remote link set eth0 up
ip -n remote addr add 192.0.2.2/24 dev eth0 && ip -n remote route add default via 192.0.2.1
sysctl -qw net.ipv4.ip_forward=1
ip netns exec remote sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
# conntrack is loaded once a NAT rule exists; load it now so its per-netns sysctls exist
nft add table ip dpprobe && nft add chain ip dpprobe c '{ type nat hook prerouting priority 0; }' &&
  nft delete table ip dpprobe
sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1
ip netns exec remote sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 2>/dev/null || true

tb=$bin/tcpbench
ip netns exec remote "$tb" serve --port 9000 --timeout 3600 >"$work/remote.log" &
pids+=($!)

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# rate LABEL CMD... -> "median min max" of TRIALS runs of `tcpbench rate`
rate() {
  local vals=() t out
  for ((t = 0; t < TRIALS; t++)); do
    out=$("$@" --duration "$SECS" --conc "$CONC") || { echo "FAILED: $out" >&2; }
    vals+=("$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out")")
    grep -q 'errors=0' <<<"$out" || echo "errors in $*: $out" >&2
  done
  printf '%s\n' "${vals[@]}" | median
}
stream() {
  local vals=() t
  for ((t = 0; t < 3; t++)); do
    vals+=("$("$@" --bytes "$STREAM_BYTES" | sed -n 's/.*gbit_per_s=\([0-9.]*\).*/\1/p')")
  done
  printf '%s\n' "${vals[@]}" | median
}

echo "# Data path ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "bridge(ipMasq) + host-local + portmap, one host port per container; tcpbench, $CONC connections"
echo "in flight, $TRIALS x ${SECS}s per cell (median), stream: 3 x $((STREAM_BYTES >> 20)) MiB (median)."
echo "nf_conntrack_max $(sysctl -n net.netfilter.nf_conntrack_max) (global), TIME_WAIT timeout 1 s in the scratch netns."
echo
echo "| impl | containers | ADD ms | hostport first c/s | hostport last c/s | masq first c/s | masq last c/s | stream DNAT Gbit/s | stream masq Gbit/s | DEL ms | rules |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for impl in $IMPLS; do
  dir=$work/ours; [[ $impl == reference ]] && dir=$work/reference
  for n in $counts; do
    st=$work/state-$impl-$n
    mkdir -p "$work/ns/$impl-$n" "$work/ipam-$impl-$n"
    sed -e "s|@BRIDGE@|dpbr0|; s|@SUBNET@|10.88.0.0/16|; s|@DATADIR@|$work/ipam-$impl-$n|" \
      "$root/bench/datapath/chain.json" >"$work/list.json"
    add=$("$bin/dp_net" add --list "$work/list.json" --plugins "$dir" --count "$n" \
      --netns-dir "$work/ns/$impl-$n" --state "$st" --ports)
    "$tb" serve --port 8080 --timeout 3600 --netns-file "$st.netns" >"$work/serve.log" &
    spid=$!
    pids+=($spid)
    for _ in $(seq 100); do grep -q listening "$work/serve.log" && break; sleep 0.1; done
    first=$(sed -n 1p "$st") last=$(tail -n 1 "$st")
    fport=$(jq -r '.portMappings[0].hostPort' <<<"$first") lport=$(jq -r '.portMappings[0].hostPort' <<<"$last")
    fns=$(jq -r .netns <<<"$first") lns=$(jq -r .netns <<<"$last")
    for ns in "$fns" "$lns"; do nsenter --net="$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"; done
    hf=$(rate ip netns exec remote "$tb" rate --to 192.0.2.1:"$fport")
    hl=$(rate ip netns exec remote "$tb" rate --to 192.0.2.1:"$lport")
    mf=$(rate "$tb" rate --netns "$fns" --to 192.0.2.2:9000)
    ml=$(rate "$tb" rate --netns "$lns" --to 192.0.2.2:9000)
    sd=$(stream ip netns exec remote "$tb" stream --to 192.0.2.1:"$lport")
    sm=$(stream "$tb" stream --netns "$lns" --to 192.0.2.2:9000)
    rules="$(nft list ruleset 2>/dev/null | grep -vc "^#") nft lines"
    kill "$spid"; wait "$spid" 2>/dev/null || true
    del=$("$bin/dp_net" del --list "$work/list.json" --plugins "$dir" --state "$st")
    left=$(ip -o link show master dpbr0 2>/dev/null | wc -l)
    echo "| $impl | $n | $(sed 's/.*median_ms=\([0-9.]*\).*/\1/' <<<"$add") | $hf | $hl | $mf | $ml | $sd | $sm | $(sed 's/.*median_ms=\([0-9.]*\).*/\1/' <<<"$del") | $rules |"
    [[ $left == 0 ]] || echo "  ($left ports left on dpbr0 after DEL)"
  done
  # the next implementation starts from a clean node: no bridge, no rules of the previous one
  ip link del dpbr0 2>/dev/null || true
  nft flush ruleset
done
