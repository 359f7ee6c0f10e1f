#!/bin/sh
# Container start-to-exit latency: `tether run --net none /bin/true` vs `runc run` (OCI bundle on
# the same rootfs) vs `unshare` (namespaces only, the floor), hyperfine medians. Then the network
# teardown order (CNI DEL before vs after unpinning the netns) with the reference bridge plugin,
# and the default-network run when our plugins are built. Everything runs inside a scratch
# network + mount namespace; state, rootfs cache and netns pins live in a temp dir.
#   bench/launcher/run.sh [RUNS]        (BIN=build/bin by default; results to stdout)
set -eu
RUNS=${1:-200}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
REF=${REFERENCE_CNI_DIR:-/usr/lib/cni}

if [ -z "${TETHER_BENCH_INNER:-}" ]; then
    exec env TETHER_BENCH_INNER=1 unshare --net --mount --propagation private "$0" "$@"
fi

WORK=$(mktemp -d /tmp/tether-bench-launcher.XXXXXX)
chmod 711 "$WORK"
export TETHER_STATE_DIR=$WORK/state TETHER_LIB_DIR=$WORK/lib TETHER_NETNS_DIR=$WORK/netns
export TETHER_CGROUP_PARENT=tether-bench-$$ CNI_PATH=$BIN CNI_CACHE_DIR=$WORK/cni-cache
export NETCONFPATH=$WORK/net.d
trap 'umount -l "$WORK/netns" 2>/dev/null; rm -rf "$WORK"' EXIT
ip link set lo up

"$BIN/tether" run --net none /bin/true # builds the default rootfs once
ROOTFS=$TETHER_LIB_DIR/rootfs/default

# runc bundle on the same tree (runc bind-mounts it as the root: no overlay)
mkdir -p "$WORK/bundle"
(cd "$WORK/bundle" && runc spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/bin\/true"/; s|"path": "rootfs"|"path": "'"$ROOTFS"'"|' "$WORK/bundle/config.json"

echo "## start-to-exit, /bin/true, no network ($RUNS runs, median)"
medians() { # hyperfine JSON -> "| command | median ms | mean ms | min ms |"
    python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("| %s | %.2f | %.2f | %.2f |" % (r["command"], r["median"]*1e3, r["mean"]*1e3, r["min"]*1e3))' "$1"
}

hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$WORK/start.json" \
    -n "tether run --net none (overlay on default rootfs)" "$BIN/tether run --net none /bin/true" \
    -n "tether run --net none --rootfs (bind)" "$BIN/tether run --net none --rootfs $ROOTFS /bin/true" \
    -n "runc run (same rootfs)" "runc --root $WORK/runc run -b $WORK/bundle bench" \
    -n "unshare -fmpuin --mount-proc chroot" "unshare -fmpuin --mount-proc=$ROOTFS/proc chroot $ROOTFS /bin/true" \
    >/dev/null
echo "| command | median ms | mean ms | min ms |"
echo "|---|---:|---:|---:|"
medians "$WORK/start.json"
echo
echo "crun: $(crun --root "$WORK/crun" run -b "$WORK/bundle" bench2 2>&1 | head -1 || true)"
echo

if [ -x "$REF/bridge" ]; then
    echo "## network teardown order (reference bridge + host-local, $((RUNS / 4)) containers each)"
    conf='{"cniVersion":"1.0.0","name":"benchnet","type":"bridge","bridge":"tbench0","isGateway":true,
"ipam":{"type":"host-local","dataDir":"'$WORK'/ipam","ranges":[[{"subnet":"10.250.0.0/16"}]]}}'
    mkdir -p "$WORK/ns"
    for order in del-first netns-first; do
        total=0
        i=0
        while [ $i -lt $((RUNS / 4)) ]; do
            ns=$WORK/ns/tb$i
            touch "$ns"
            unshare --net="$ns" true # a pinned netns in the temp dir (never /run/netns)
            echo "$conf" | CNI_COMMAND=ADD CNI_CONTAINERID=c$i CNI_NETNS=$ns CNI_IFNAME=eth0 CNI_PATH=$REF "$REF/bridge" >/dev/null
            t0=$(date +%s%N)
            if [ $order = del-first ]; then
                echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID=c$i CNI_NETNS=$ns CNI_IFNAME=eth0 CNI_PATH=$REF "$REF/bridge" >/dev/null
                umount "$ns" && rm "$ns"
            else
                umount "$ns" && rm "$ns"
                echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID=c$i CNI_NETNS=$ns CNI_IFNAME=eth0 CNI_PATH=$REF "$REF/bridge" >/dev/null
            fi
            t1=$(date +%s%N)
            total=$((total + (t1 - t0) / 1000))
            i=$((i + 1))
        done
        echo "$order: mean teardown $((total / (RUNS / 4))) us (DEL + netns removal, wall clock)"
        sleep 1
    done
    echo "host veths left after netns-first (kernel removes them asynchronously): $(ip -o link show type veth | wc -l)"
    echo
fi

if [ -x "$BIN/bridge" ] && [ -x "$BIN/host-local" ]; then
    # A "default" network in NETCONFPATH (IPAM data in the temp dir): bridge + host-local, plus
    # portmap when it is built. ipMasq is left off: NAT cost belongs to the plugin benchmarks.
    mkdir -p "$NETCONFPATH"
    portmap=""
    [ -x "$BIN/portmap" ] && portmap=',{"type":"portmap","capabilities":{"portMappings":true}}'
    cat >"$NETCONFPATH/default.conflist" <<JSON
{"cniVersion":"1.0.0","name":"default","plugins":[{"type":"bridge","bridge":"tbdef0","isGateway":true,
"ipam":{"type":"host-local","dataDir":"$WORK/ipam","ranges":[[{"subnet":"10.251.0.0/16"}]]}}$portmap]}
JSON
    echo "## start-to-exit with the default network (bridge + host-local${portmap:+ + portmap}; $((RUNS / 4)) runs)"
    echo "| command | median ms | mean ms | min ms |"
    echo "|---|---:|---:|---:|"
    if "$BIN/tether" run /bin/true; then
        for order in netns-first del-first; do
            hyperfine -N --warmup 5 --runs $((RUNS / 4)) -n "tether run /bin/true (default network, teardown $order)" \
                "env TETHER_TEARDOWN_ORDER=$order $BIN/tether run /bin/true" --export-json "$WORK/net.json" >/dev/null
            medians "$WORK/net.json"
        done
        echo "veths left on the bridge after the runs: $(ip -o link show master tbdef0 | wc -l)"
    else
        echo "(default network not available in this build)"
    fi
fi
