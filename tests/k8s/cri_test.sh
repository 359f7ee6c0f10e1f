#!/bin/sh
# The Kubernetes node path, end to end: containerd's CRI plugin runs tether's plugins for pod
# sandboxes driven through the CRI exactly as the kubelet drives them (tests/k8s/cri_client.py).
#
# Usage: cri_test.sh BIN_DIR   (BIN_DIR: the build's bin/, with the tether-cni plugin links)
#
# Everything happens in private namespaces (the script re-executes itself under `unshare --net
# --mount --pid --fork --kill-child`): containerd, its shims and the sandboxes die with the test,
# and /run, /var/lib/cni and /etc/cni are private tmpfs mounts. containerd gets its own config,
# root, state and socket under a temp dir; the CNI conflist is a flannel-style node network
# (bridge + host-local, portmap, bandwidth; containerd adds loopback itself).
#
# Exit codes: 0 pass, 1 fail, 77 skipped (containerd, runc, busybox-static or python3 grpc
# missing: printed as "SKIP: ...").
set -eu

BIN_DIR=$(cd "${1:?usage: cri_test.sh BIN_DIR}" && pwd)
HERE=$(cd "${0%/*}" && pwd)
PY=/usr/bin/python3

skip() { echo "SKIP: $*"; exit 77; }
for tool in containerd ctr containerd-shim-runc-v2 runc nft tc; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (apt-get install containerd runc nftables iproute2)"
done
[ -x /bin/busybox ] || skip "busybox-static not installed"
"$PY" -c 'import grpc, grpc_tools.protoc' 2>/dev/null ||
    skip "python3 grpc not installed (apt-get install python3-grpcio python3-grpc-tools)"
for p in bridge host-local portmap bandwidth loopback; do
    [ -x "$BIN_DIR/$p" ] || { echo "FAIL: $BIN_DIR/$p missing (build tether-cni)"; exit 1; }
done

if [ "${TETHER_K8S_INNER:-}" != 1 ]; then
    TETHER_K8S_INNER=1 exec unshare --net --mount --pid --fork --kill-child --mount-proc \
        --propagation private "$0" "$@"
fi

# ---- inside the private namespaces --------------------------------------------------------------
ip link set lo up
for d in /run /var/lib/cni /etc/cni; do
    mkdir -p "$d"
    mount -t tmpfs tmpfs "$d"
done
T=$(mktemp -d /tmp/tether-k8s.XXXXXX)
CTRD_PID=
cleanup() {
    [ -n "$CTRD_PID" ] && kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
    grep " $T/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

FAILS=0
CHECKS=0
check() { # check DESCRIPTION COMMAND...: one assertion, passing when COMMAND succeeds
    desc=$1
    shift
    CHECKS=$((CHECKS + 1))
    if "$@" >/dev/null 2>&1; then echo "ok   - $desc" >&2; else
        echo "FAIL - $desc" >&2
        FAILS=$((FAILS + 1))
    fi
}
not() { ! "$@"; }
die() { echo "FAIL: $*" >&2; echo "--- containerd log (tail)" >&2; tail -30 "$T/containerd.log" >&2; exit 1; }

# ---- containerd with a private config ------------------------------------------------------------
mkdir -p "$T/net.d" "$T/stubs" "$T/logs"
IMAGE=localhost/tether-pause:1
cat >"$T/config.toml" <<TOML
version = 2
root = "$T/root"
state = "$T/state"
# opt: would create /opt/containerd on the host; the other snapshotters are not needed.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.overlayfs",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$T/containerd.sock"
[ttrpc]
  address = "$T/containerd.sock.ttrpc"
[debug]
  address = "$T/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE"
  # These VMs do not let a process lower its OOM score (runc: "can't get final child's PID").
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$BIN_DIR"
    conf_dir = "$T/net.d"
    max_conf_num = 1
TOML
# A node of a flannel cluster: flannel's CNI plugin hands bridge + host-local this delegate
# (the node's /24 of 10.244.0.0/16), followed by portmap and bandwidth.
cat >"$T/net.d/10-flannel.conflist" <<'JSON'
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "isDefaultGateway": true,
      "hairpinMode": true, "ipMasq": false, "mtu": 1450,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.244.1.0/24" }]],
                "routes": [{ "dst": "10.244.0.0/16" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "bandwidth", "capabilities": { "bandwidth": true } }
  ]
}
JSON

containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTRD_PID=$!
"$PY" -m grpc_tools.protoc -I"$HERE" --python_out="$T/stubs" --grpc_python_out="$T/stubs" \
    "$HERE/api.proto" || die "generate CRI stubs from api.proto"
cri() { "$PY" "$HERE/cri_client.py" "$T/containerd.sock" "$T/stubs" "$@"; }
i=0
until cri version >"$T/version" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "containerd did not answer the CRI Version call"
    kill -0 "$CTRD_PID" 2>/dev/null || die "containerd exited"
    sleep 0.1
done
echo "# runtime: $(cat "$T/version")" >&2

"$PY" "$HERE/make_pause_image.py" /bin/busybox "$T/pause.tar" "$IMAGE"
ctr --address "$T/containerd.sock" -n k8s.io images import --snapshotter native "$T/pause.tar" >/dev/null ||
    die "ctr images import"

# ---- a client outside the node: reaches host ports over a veth ---------------------------------
ip netns add client
ip link add hp0 type veth peer name hp1 netns client
ip addr add 192.168.200.1/24 dev hp0
ip link set hp0 up
ip -n client addr add 192.168.200.2/24 dev hp1
ip -n client link set hp1 up
ip -n client link set lo up

links() { ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort; }
# The bridge stays after the last pod is gone (as with the reference bridge plugin), so after
# RemovePodSandbox the node's links must be exactly the ones before plus cni0.
{ links; echo cni0; } | sort -u >"$T/links.before"

# ---- RunPodSandbox ------------------------------------------------------------------------------
POD='{"name": "web", "uid": "2b0e6c7a-1d7e-4c4e-9f6e-7a1b2c3d4e5f", "namespace": "default",
  "hostname": "web", "logDirectory": "'"$T"'/logs",
  "portMappings": [{"protocol": "TCP", "containerPort": 8080, "hostPort": 30080}],
  "dns": {"servers": ["10.96.0.10"], "searches": ["default.svc.cluster.local"],
          "options": ["ndots:5"]},
  "annotations": {"kubernetes.io/ingress-bandwidth": "1M", "kubernetes.io/egress-bandwidth": "2M"}}'
ID=$(cri run "$POD" 2>"$T/run.err") || die "RunPodSandbox: $(cat "$T/run.err")"
echo "# sandbox $ID" >&2
cri status "$ID" >"$T/status.json" || die "PodSandboxStatus"
field() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T/status.json" "$1"; }
STATE=$(field 'd["state"]')
IP=$(field 'd["ip"]')
NETNS=$(field 'd["info"]["info"]["runtimeSpec"]["linux"]["namespaces"][[n["type"] for n in d["info"]["info"]["runtimeSpec"]["linux"]["namespaces"]].index("network")]["path"]')
echo "# pod IP $IP, netns $NETNS" >&2
check "sandbox is ready" [ "$STATE" = SANDBOX_READY ]
check "pod IP $IP is in the node's pod subnet 10.244.1.0/24" sh -c "echo $IP | grep -q '^10\.244\.1\.'"
check "pod IP is on eth0 in the pod netns" sh -c "nsenter --net=$NETNS ip -4 -o addr show dev eth0 | grep -q ' $IP/24 '"
check "pod default route via the bridge gateway" sh -c "nsenter --net=$NETNS ip route show default | grep -q 'via 10.244.1.1'"
check "pod route to the cluster CIDR" sh -c "nsenter --net=$NETNS ip route show 10.244.0.0/16 | grep -q 'via 10.244.1.1'"
check "pod loopback up (added by containerd)" sh -c "nsenter --net=$NETNS ip -o link show lo | grep -q 'UP'"
check "pod eth0 has the overlay MTU 1450" sh -c "nsenter --net=$NETNS ip -o link show eth0 | grep -q 'mtu 1450'"
RESOLV="$T/root/io.containerd.grpc.v1.cri/sandboxes/$ID/resolv.conf"
check "pod resolv.conf has the DNS config" sh -c "grep -q 'nameserver 10.96.0.10' $RESOLV && grep -q 'search default.svc.cluster.local' $RESOLV && grep -q 'options ndots:5' $RESOLV"

links >"$T/links.during"
check "the pod added two links to the node (host veth, ifb)" [ "$(comm -13 "$T/links.before" "$T/links.during" | wc -l)" = 2 ]
HOSTVETH=$(ip -o link show master cni0 | awk -F': ' '{print $2}' | cut -d@ -f1)
echo "# host veth: $HOSTVETH" >&2
check "one host veth on cni0" [ "$(echo "$HOSTVETH" | grep -c .)" = 1 ]
check "hairpin mode on the host veth" sh -c "ip -d link show $HOSTVETH | grep -q 'hairpin on'"
check "ingress bandwidth: tbf rate 1Mbit on the host veth" sh -c "tc qdisc show dev $HOSTVETH | grep -q 'tbf.*rate 1Mbit'"
check "egress bandwidth: ifb device with tbf rate 2Mbit" sh -c "tc qdisc show | grep -q 'tbf.*rate 2Mbit'"
check "portmap nft element for 30080" sh -c "nft list ruleset | grep -q 30080"
check "libcni result cache exists" [ -e "/var/lib/cni/results/cbr0-$ID-eth0" ]
check "host-local lease for $IP" [ -e "/var/lib/cni/networks/cbr0/$IP" ]

# A host port reaches a listener in the pod: client -> 192.168.200.1:30080 -> pod:8080.
nsenter --net="$NETNS" busybox nc -l -p 8080 >"$T/got" 2>/dev/null &
NC_PID=$!
i=0
until nsenter --net="$NETNS" busybox netstat -ltn 2>/dev/null | grep -q ':8080 '; do
    i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.1
done
echo hello-pod | ip netns exec client busybox nc -w 3 192.168.200.1 30080 >/dev/null 2>&1 || true
i=0
while kill -0 "$NC_PID" 2>/dev/null && [ $i -lt 30 ]; do i=$((i + 1)); sleep 0.1; done
kill "$NC_PID" 2>/dev/null || true
wait "$NC_PID" 2>/dev/null || true
check "host port 30080 from a remote client reaches the pod's listener" [ "$(cat "$T/got")" = hello-pod ]

# ---- StopPodSandbox, RemovePodSandbox -----------------------------------------------------------
cri stop "$ID" 2>"$T/stop.err" || die "StopPodSandbox: $(cat "$T/stop.err")"
cri status "$ID" >"$T/status.json" || die "PodSandboxStatus after stop"
check "sandbox not ready after StopPodSandbox" [ "$(field 'd["state"]')" = SANDBOX_NOTREADY ]
check "StopPodSandbox again succeeds (idempotent)" cri stop "$ID"
cri remove "$ID" 2>"$T/remove.err" || die "RemovePodSandbox: $(cat "$T/remove.err")"
check "RemovePodSandbox again succeeds (idempotent)" cri remove "$ID"

check "no sandbox listed" [ -z "$(cri list)" ]
check "no veth left on cni0" [ -z "$(ip -o link show master cni0 2>/dev/null)" ]
links >"$T/links.after"
check "no link left on the node but the cni0 bridge (no veth, no ifb)" cmp -s "$T/links.before" "$T/links.after"
diff "$T/links.before" "$T/links.after" >&2 || true
check "no pod netns left" not sh -c "ls /run/netns | grep -q '^cni-'"
check "no host-local lease left" not sh -c "ls /var/lib/cni/networks/cbr0 | grep -q '^10\.'"
check "no libcni result cache left" not sh -c "ls /var/lib/cni/results | grep -q ."
check "no portmap nft element left" not sh -c "nft list ruleset | grep -q 30080"
check "no tbf qdisc left" not sh -c "tc qdisc show | grep -q tbf"

echo "# $CHECKS checks, $FAILS failed" >&2
[ "$FAILS" = 0 ] || { echo "--- containerd log (tail)" >&2; tail -20 "$T/containerd.log" >&2; exit 1; }
echo "PASS: containerd CRI with tether's plugins ($CHECKS checks)"
