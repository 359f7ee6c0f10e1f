#!/bin/sh
# podman (CNI backend) on our plugins, from outside: `podman network create` writes its own
# conflist (bridge + portmap + firewall + tuning), containers run on it with build/bin as the only
# plugin dir, and we check what a user sees — address, gateway, container to container, a published
# port from a "remote" namespace — and that `podman rm` leaves nothing of the attachment behind.
#   podman_test.sh BUILD_DIR       (ctest label "podman"; exit 77 = skipped: no podman/runtime)
# Runs itself again inside `unshare --net --mount --propagation private` with tmpfs on /run and
# /var/lib, so podman's netns pins, libcni's cache and host-local's leases never reach the host.
set -eu
build=$(cd "$1" && pwd)
if [ "${IN_SCRATCH:-}" != 1 ]; then
  command -v podman >/dev/null || { echo "SKIP: podman not installed"; exit 77; }
  command -v busybox >/dev/null || { echo "SKIP: busybox not installed"; exit 77; }
  runtime=$(command -v runc || command -v crun || true)
  [ -n "$runtime" ] || { echo "SKIP: no OCI runtime (runc/crun)"; exit 77; }
  export IN_SCRATCH=1 OCI_RUNTIME="$runtime"
  exec unshare --net --mount --propagation private sh "$0" "$@"
fi

fail() { echo "FAIL: $*"; exit 1; }
ip link set lo up
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mkdir -p /var/lib/cni
D=$(mktemp -d /tmp/tether-podman-XXXXXX)
# podman's overlay mounts die with this mount namespace, but must be gone before rm -rf.
cleanup() {
  awk -v d="$D" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$D/rootfs/bin" "$D/rootfs/proc" "$D/rootfs/sys" "$D/rootfs/dev" "$D/rootfs/etc" \
  "$D/rootfs/tmp" "$D/net.d"
cp "$(command -v busybox)" "$D/rootfs/bin/busybox"
for a in sh ip ping nc sleep cat; do ln -s busybox "$D/rootfs/bin/$a"; done
tar -C "$D/rootfs" -cf "$D/bb.tar" .
# crun refuses hybrid cgroups (this kind of host); runc does not. Podman's rootful default
# rlimits are above what an unprivileged-ish CI host grants, so pin them low.
cat > "$D/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "$(basename "$OCI_RUNTIME")"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$build/bin"]
network_config_dir = "$D/net.d"
EOF
export CONTAINERS_CONF="$D/containers.conf"
P="podman --root $D/root --runroot $D/runroot --network-backend cni --network-config-dir $D/net.d"

$P network create --subnet 10.89.7.0/24 testnet >/dev/null || fail "network create"
grep -q '"type": "firewall"' "$D/net.d/testnet.conflist" || fail "podman wrote no firewall plugin"
grep -q '"type": "tuning"' "$D/net.d/testnet.conflist" || fail "podman wrote no tuning plugin"
$P import "$D/bb.tar" bb:1 >/dev/null 2>&1 || fail "podman import"
$P run -d --name c1 --network testnet -p 18080:80 bb:1 \
  sh -c 'while true; do echo hello-c1 | nc -l -p 80; done' >/dev/null || fail "run c1"
$P run -d --name c2 --network testnet bb:1 sleep 300 >/dev/null || fail "run c2"

ip1=$($P inspect -f '{{.NetworkSettings.Networks.testnet.IPAddress}}' c1)
case $ip1 in 10.89.7.*) ;; *) fail "c1 address '$ip1' not in 10.89.7.0/24" ;; esac
$P exec c1 ip -4 addr show eth0 | grep -q "inet $ip1/24" || fail "c1 eth0 lacks $ip1/24"
$P exec c2 ip route | grep -q "default via 10.89.7.1 dev eth0" || fail "c2 has no default route"
$P exec c2 ping -c1 -W2 10.89.7.1 >/dev/null || fail "c2 cannot ping its gateway"
sleep 1
[ "$($P exec c2 nc -w 3 "$ip1" 80 </dev/null)" = hello-c1 ] || fail "c2 cannot reach c1:80"

# A "remote" host: only 192.0.2.0/24 to us, so it reaches c1 only through the published port.
ip netns add remote
ip link add to-remote type veth peer name eth0 netns remote
ip addr add 192.0.2.1/24 dev to-remote && ip link set to-remote up
ip netns exec remote ip addr add 192.0.2.2/24 dev eth0
ip netns exec remote ip link set eth0 up
ip netns exec remote ip link set lo up
sleep 2 # DAD-free IPv4, but give the veth carrier a moment
out=$(ip netns exec remote busybox nc -w 3 192.0.2.1 18080 </dev/null || true)
[ "$out" = hello-c1 ] || fail "remote cannot reach the published port 18080 (got '$out')"
nft list ruleset | grep -q "testnet/" || fail "no nft elements tagged testnet/"

$P rm -f -t0 c1 c2 >/dev/null || fail "podman rm"
left=""
ip -o link show type veth | grep -v to-remote && left="$left veth"
nft list ruleset | grep "testnet/" && left="$left nft-elements"
ls /var/lib/cni/networks/testnet | grep -E '^10\.' && left="$left leases"
[ -z "$(ls /var/lib/cni/results)" ] || left="$left cache:$(ls /var/lib/cni/results)"
# (lock, last_reserved_ip.0 and tether.owners stay, as the reference keeps lock and the hint.)
[ -z "$left" ] || fail "left after podman rm:$left"
$P network rm testnet >/dev/null || fail "network rm"
echo "PASS: podman network create/run/rm on tether plugins ($ip1, port 18080)"
