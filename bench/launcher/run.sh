#!/bin/sh
# Container start-to-exit latency: `tether run --net none /bin/true` vs `runc run` (OCI bundle on
# the same rootfs) vs `unshare` (namespaces only, the floor), hyperfine medians. Then the network
# teardown order (CNI DEL before vs after unpinning the netns) with the reference bridge plugin,
# and the default-network run when our plugins are built, side by side with `podman run` on a
# CNI network of the reference plugins (bridge + host-local + portmap). Everything runs inside a
# scratch network + mount namespace; the rootfs cache and podman's storage live in a temp dir,
# runtime state and netns pins in /run, and /run, /var/lib and /dev/shm are tmpfs inside that mount
# namespace, so nothing podman or runc writes to their default places reaches the host.
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
# Runtime state where each runtime keeps it by default: on tmpfs (/run, the private one mounted
# below; /var/lib/cni for libcni's cache is tmpfs here too). On the temp dir's ext4 every state
# file's inode allocation scans the recently deleted inodes of the runs before (ext4
# recently_deleted: a quarter of tether's CPU per run), which no deployment pays.
export TETHER_STATE_DIR=/run/tether TETHER_LIB_DIR=$WORK/lib TETHER_NETNS_DIR=/run/tether-netns
export TETHER_CGROUP_PARENT=tether-bench-$$ CNI_PATH=$BIN CNI_CACHE_DIR=/var/lib/cni-tether
export NETCONFPATH=$WORK/net.d
PODMAN_CGROUP=tether-bench-podman-$$
cleanup() {
    # mounts under the temp dir (netns pins, podman's overlay storage), deepest first
    awk -v w="$WORK" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
    # podman's cgroupfs parent (container and conmon cgroups), and tether's should a run have
    # left it, removed depth-first
    for d in /sys/fs/cgroup/*/"$PODMAN_CGROUP" /sys/fs/cgroup/"$PODMAN_CGROUP" \
        /sys/fs/cgroup/*/"$TETHER_CGROUP_PARENT" /sys/fs/cgroup/"$TETHER_CGROUP_PARENT"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    true
}
trap cleanup EXIT
# Private /run (runc's and podman's state, /run/netns), /var/lib (containers/image's blob cache,
# libcni's result cache) and /dev/shm (podman's locks): tmpfs in this mount namespace only.
for d in /run /var/lib /dev/shm; do mount -t tmpfs -o mode=755 tmpfs "$d"; done
chmod 1777 /dev/shm
ip link set lo up

"$BIN/tether" run --net none /bin/true # builds the default rootfs once
ROOTFS=$TETHER_LIB_DIR/rootfs/default

# runc bundle on the same tree (runc bind-mounts it as the root: no overlay)
mkdir -p "$WORK/bundle"
(cd "$WORK/bundle" && runc spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"\/bin\/true"/; s|"path": "rootfs"|"path": "'"$ROOTFS"'"|' "$WORK/bundle/config.json"

FLOOR=""
[ -x "$BIN/launcher-floor" ] && FLOOR=$BIN/launcher-floor # bench/launcher/floor.c
echo "## start-to-exit, /bin/true, no network ($RUNS runs, median)"
medians() { # hyperfine JSON -> "| command | median ms | mean ms | min ms |"
    python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("| %s | %.2f | %.2f | %.2f |" % (r["command"], r["median"]*1e3, r["mean"]*1e3, r["min"]*1e3))' "$1"
}

hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$WORK/start.json" \
    -n "tether run --net none (overlay on default rootfs)" "$BIN/tether run --net none /bin/true" \
    -n "tether run --net none --rootfs (bind)" "$BIN/tether run --net none --rootfs $ROOTFS /bin/true" \
    -n "runc run (same rootfs)" "runc --root /run/runc run -b $WORK/bundle bench" \
    -n "unshare -fmpuin --mount-proc chroot" "unshare -fmpuin --mount-proc=$ROOTFS/proc chroot $ROOTFS /bin/true" \
    ${FLOOR:+-n "C floor (clone CLONE_NEW* + chroot + exec)" "$FLOOR $ROOTFS /bin/true"} \
    >/dev/null
echo "| command | median ms | mean ms | min ms |"
echo "|---|---:|---:|---:|"
medians "$WORK/start.json"
ratio() { # hyperfine JSON, command index a, command index b -> "median[b] / median[a]"
    python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"]
print("%.1f" % (r[int(sys.argv[3])]["median"] / r[int(sys.argv[2])]["median"]))' "$@"
}
echo
echo "runc / tether (overlay): $(ratio "$WORK/start.json" 0 2)x; runc / tether (bind): $(ratio "$WORK/start.json" 1 2)x (medians)"
echo
# The same commands interleaved (one run of each in turn), with the CPU time each used including
# the children it waited for: on a machine shared with other builds CPU time is the stable number.
echo "## interleaved, with CPU time (user + sys, waited children included; $RUNS runs each)"
python3 "$ROOT/bench/launcher/interleave.py" "$RUNS" \
    "tether run --net none=$BIN/tether run --net none /bin/true" \
    "runc run=runc --root /run/runc run -b $WORK/bundle bench" \
    ${FLOOR:+"C floor=$FLOOR $ROOTFS /bin/true"}
echo
echo "crun: $(crun --root /run/crun run -b "$WORK/bundle" bench2 2>&1 | head -1 || true)"
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

# podman (Debian's package) with the CNI backend and the reference plugins: a conflist like tether's
# default network (bridge + host-local + portmap, no NAT), an image imported from a tarball of the
# same busybox rootfs (no registry), storage/run/tmp dirs and the network config in the temp dir,
# cgroupfs under a parent removed at exit, no events, runc (crun refuses hybrid cgroups).
# Prints the podman command line to use, or nothing (with the reason on stderr).
podman_setup() {
    command -v podman >/dev/null || { echo "podman is not installed" >&2; return; }
    command -v runc >/dev/null || { echo "runc is not installed" >&2; return; }
    for p in bridge host-local portmap; do
        [ -x "$REF/$p" ] || { echo "no reference $p in $REF" >&2; return; }
    done
    PW=$WORK/p # short: podman refuses a runroot path longer than 50 characters
    mkdir -p "$PW/net.d" "$PW/tmp"
    # podman asks runc for nofile=1048576 and nproc=pid_max; without CAP_SYS_RESOURCE runc cannot
    # raise a hard limit, so ask for what this process has.
    nofile=$(ulimit -Hn)
    nproc=$(cat /proc/sys/kernel/pid_max)
    hard=$(awk '/^Max processes/ {print $4}' /proc/self/limits)
    [ "$hard" != unlimited ] && [ "$hard" -lt "$nproc" ] && nproc=$hard
    cat >"$PW/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$REF"]
network_config_dir = "$PW/net.d"
default_network = "pbench"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
tmp_dir = "$PW/libpod-tmp"
volume_path = "$PW/volumes"
image_copy_tmp_dir = "$PW/tmp"
static_dir = "$PW/libpod"
CONF
    cat >"$PW/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PW/storage"
runroot = "/run/prun"
CONF
    cat >"$PW/net.d/pbench.conflist" <<JSON
{"cniVersion":"1.0.0","name":"pbench","plugins":[{"type":"bridge","bridge":"pbench0","isGateway":true,
"ipam":{"type":"host-local","dataDir":"$PW/ipam","ranges":[[{"subnet":"10.252.0.0/16"}]]}},
{"type":"portmap","capabilities":{"portMappings":true}}]}
JSON
    export CONTAINERS_CONF=$PW/containers.conf CONTAINERS_STORAGE_CONF=$PW/storage.conf
    export CONTAINERS_REGISTRIES_CONF=$PW/registries.conf TMPDIR=$PW/tmp
    : >"$PW/registries.conf"
    P="podman --root $PW/storage --runroot /run/prun --tmpdir /run/ptmp"
    P="$P --cgroup-manager cgroupfs --events-backend none --runtime runc --network-config-dir $PW/net.d"
    tar -C "$ROOTFS" -cf "$PW/rootfs.tar" . &&
        $P import -q "$PW/rootfs.tar" localhost/tether-bench-busybox >/dev/null &&
        $P run --rm --network pbench --cgroup-parent "/$PODMAN_CGROUP" localhost/tether-bench-busybox \
            ip -4 -o addr show eth0 >"$PW/addr" &&
        grep -q ' 10\.252\.' "$PW/addr" && echo "podman container wired: $(awk '{print $2, $4}' "$PW/addr")" >&2 &&
        echo "$P run --rm --network pbench --cgroup-parent /$PODMAN_CGROUP localhost/tether-bench-busybox /bin/true"
}

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
    if "$BIN/tether" run /bin/true; then
        podman_setup >"$WORK/podman.cmd" 2>"$WORK/podman.err" || true # exports its env here
        PODMAN=$(cat "$WORK/podman.cmd")
        set -- -n "tether run /bin/true (default network, teardown del-first)" "$BIN/tether run /bin/true"
        [ -n "$PODMAN" ] && set -- "$@" -n "podman run --rm (CNI: reference bridge + host-local + portmap, runc)" "$PODMAN"
        hyperfine -N --warmup 5 --runs $((RUNS / 4)) "$@" --export-json "$WORK/net.json" >/dev/null
        hyperfine -N --warmup 5 --runs $((RUNS / 4)) -n "tether run /bin/true (default network, teardown del-first)" \
            "env TETHER_TEARDOWN_ORDER=del-first $BIN/tether run /bin/true" --export-json "$WORK/net2.json" >/dev/null
        echo "| command | median ms | mean ms | min ms |"
        echo "|---|---:|---:|---:|"
        medians "$WORK/net.json"
        medians "$WORK/net2.json"
        echo
        if [ -n "$PODMAN" ]; then
            echo "podman / tether (default network): $(ratio "$WORK/net.json" 0 1)x (medians)"
            echo "$(podman --version), $(runc --version | head -1); $(tail -1 "$WORK/podman.err")"
        else
            echo "podman: not measured: $(tail -3 "$WORK/podman.err" | tr '\n' ' ')"
        fi
        echo "veths left on the bridges after the runs: tbdef0 $(ip -o link show master tbdef0 | wc -l), pbench0 $(ip -o link show master pbench0 2>/dev/null | wc -l)"
    else
        echo "(default network not available in this build)"
    fi
fi
