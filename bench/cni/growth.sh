#!/usr/bin/env bash
# Repeatability of ADD growth: our chain alone at N containers, RUNS times (each on a fresh IPAM
# filesystem, as run.sh does), one result row per run. One run's first-100/last-100 medians can
# be moved by a burst of unrelated kernel work on a 2-core machine; several runs show the spread.
#   bench/cni/growth.sh [CHAIN] [N] [RUNS]      defaults: nat 1000 5
# Writes bench/results/growth-<chain>.md and prints it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
chain=${1:-nat} n=${2:-1000} runs=${3:-5}
bin=${TETHER_BIN_DIR:-$root/build/bin}
out=$root/bench/results/growth-$chain.md
ports=""; [[ $chain == nat || $chain == conflist ]] && ports="--ports"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ours"
for p in bridge host-local portmap firewall tuning; do ln -s "$bin/$p" "$tmp/ours/$p"; done

unshare --net --mount --propagation private bash -s -- "$tmp" "$chain" "$n" "$runs" "$ports" "$bin" "$root" > "$out.tmp" <<'INNER'
set -euo pipefail
tmp=$1 chain=$2 n=$3 runs=$4 ports=$5 bin=$6 root=$7
ip link set lo up
mkdir -p "$tmp/netns" "$tmp/data" && mount -t tmpfs tmpfs "$tmp/netns"
echo "# ADD growth, $chain chain at $n containers, $runs runs ($(date -u +%F), $(nproc) cores)"
echo
echo "IPAM files on a fresh ext4 per run (mkfs.ext4 -O ^has_journal); netns pins on a tmpfs."
echo
echo "| run | op | containers | median | first 100 | last 100 | growth |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq 1 "$runs"); do
  data=""
  truncate -s 512M "$tmp/data.img" && mkfs.ext4 -q -F -O ^has_journal "$tmp/data.img" \
    && mount -o loop "$tmp/data.img" "$tmp/data" 2>/dev/null && data="--data-dir $tmp/data/ipam"
  $bin/cni_bench --chain "$root/bench/cni/chains/$chain.json" --plugins "$tmp/ours" --label "run $r" \
    --count "$n" --bridge tbench0 --subnet 10.98.0.0/16 $ports --netns-dir "$tmp/netns" $data | grep -v '^<!--'
  mountpoint -q "$tmp/data" && umount "$tmp/data"
  rm -f "$tmp/data.img"
done
umount "$tmp/netns"
INNER
mv "$out.tmp" "$out"
cat "$out"
