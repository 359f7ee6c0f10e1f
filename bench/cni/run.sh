#!/usr/bin/env bash
# Side-by-side CNI benchmark: our plugins (build/bin) and the reference plugins (/usr/lib/cni)
# through the same driver in the same run, plus the driver's floor (no-op plugin) and the kernel's
# own veth deletion time. Everything runs in a scratch network + mount namespace.
#   bench/cni/run.sh [CHAIN] [COUNTS...]     CHAIN = bridge (default) | nat
# Writes bench/results/cni-<chain>.md and prints it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
chain=${1:-bridge}; shift || true
counts=${*:-"1 100 1000"}
bin=${TETHER_BIN_DIR:-$root/build/bin}
ref=${REFERENCE_CNI_DIR:-/usr/lib/cni}
out=$root/bench/results/cni-$chain.md
mkdir -p "$root/bench/results"
ports=""; [[ $chain == nat ]] && ports="--ports"

# CNI_PATH directories holding exactly the binaries of one implementation.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ours" "$tmp/ref" "$tmp/noop"
for p in bridge host-local portmap; do
  [[ -x $bin/$p ]] && ln -s "$bin/$p" "$tmp/ours/$p"
  [[ -x $ref/$p ]] && ln -s "$ref/$p" "$tmp/ref/$p"
done
ln -s "$bin/noop-plugin" "$tmp/noop/noop-plugin"

unshare --net --mount --propagation private bash -s -- "$tmp" "$chain" "$counts" "$ports" "$bin" "$root" > "$out.tmp" <<'INNER'
set -euo pipefail
tmp=$1 chain=$2 counts=$3 ports=$4 bin=$5 root=$6
ip link set lo up
# Netns pins on a tmpfs, as /run/netns is on a real host (see cni_bench --netns-dir).
mkdir -p "$tmp/netns" && mount -t tmpfs tmpfs "$tmp/netns"
pins="--netns-dir $tmp/netns"
echo "# CNI benchmark: $chain chain ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "Plugin exec wall time per container operation, in ms (median). growth = last-100 / first-100."
echo
echo "| implementation | op | containers | median | first 100 | last 100 | growth |"
echo "|---|---|---|---|---|---|---|"
$bin/cni_bench --veth-floor 50
for n in $counts; do
  $bin/cni_bench --chain "$root/bench/cni/chains/noop.json" --plugins "$tmp/noop" --label "no-op floor" --count "$n" $pins
  $bin/cni_bench --chain "$root/bench/cni/chains/$chain.json" --plugins "$tmp/ours" --label "tether n=$n" --count "$n" --bridge tbench0 --subnet 10.98.0.0/16 $ports $pins
  $bin/cni_bench --chain "$root/bench/cni/chains/$chain.json" --plugins "$tmp/ref" --label "reference n=$n" --count "$n" --bridge rbench0 --subnet 10.97.0.0/16 $ports $pins
done
umount "$tmp/netns"
INNER
mv "$out.tmp" "$out"
cat "$out"
