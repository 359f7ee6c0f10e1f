#!/usr/bin/env bash
# The pod-start storm, side by side: ADD then DEL of N containers with K operations in flight, on
# bridge(ipMasq) + host-local + portmap (one port mapping per container), ours and the reference
# through the same driver (build/bin/storm) in the same run, in a scratch network + mount namespace.
#   bench/cni/storm.sh [COUNTS] [CONCURRENCIES]      defaults: "110 500" "1 8 32"
# Writes bench/results/storm.md and prints it. Each phase gets its IPAM files on a fresh ext4
# (as bench/cni/run.sh) and netns pins on a tmpfs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
counts=${1:-"110 500"}
concs=${2:-"1 8 32"}
bin=${TETHER_BIN_DIR:-$root/build/bin}
ref=${REFERENCE_CNI_DIR:-/usr/lib/cni}
out=$root/bench/results/storm.md
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ours" "$tmp/ref"
for p in bridge host-local portmap; do
  ln -s "$bin/$p" "$tmp/ours/$p"
  ln -s "$ref/$p" "$tmp/ref/$p"
done

unshare --net --mount --propagation private bash -s -- "$tmp" "$counts" "$concs" "$bin" "$root" > "$out.tmp" <<'INNER'
set -euo pipefail
tmp=$1 counts=$2 concs=$3 bin=$4 root=$5
ip link set lo up
data_for() {
  local img=$tmp/data-$1.img dir=$tmp/data-$1
  mkdir -p "$dir"
  if truncate -s 512M "$img" && mkfs.ext4 -q -F -O ^has_journal "$img" && mount -o loop "$img" "$dir" 2>/dev/null; then
    echo "--data-dir $dir/ipam"
  fi
}
done_with() { mountpoint -q "$tmp/data-$1" && umount "$tmp/data-$1"; rm -f "$tmp/data-$1.img"; }
mkdir -p "$tmp/netns" && mount -t tmpfs tmpfs "$tmp/netns"
echo "# Pod-start storm: bridge(ipMasq) + host-local + portmap ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "N containers ADDed with K operations in flight, then DELed the same way. Wall time of each"
echo "storm in s, per-operation p50/p99 in ms (the whole chain, as the runtime waits for it)."
echo "left = lease files / veths / netfilter ruleset lines versus before the storm."
echo
echo "| implementation | N | K | ADD wall s | ADD p50 | ADD p99 | DEL wall s | DEL p50 | DEL p99 | failures | duplicate IPs | left |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $counts; do
  for k in $concs; do
    for impl in ours ref; do
      label=tether; [[ $impl == ref ]] && label=reference
      sub=10.98.0.0/16; [[ $impl == ref ]] && sub=10.97.0.0/16
      data=$(data_for "$impl-$n-$k")
      "$bin/storm" --chain "$root/bench/cni/chains/nat.json" --plugins "$tmp/$impl" --label "$label" \
        --count "$n" --concurrency "$k" --ports --bridge "s$impl$k" --subnet "$sub" \
        --netns-dir "$tmp/netns" $data
      done_with "$impl-$n-$k"
    done
  done
done
umount "$tmp/netns"
INNER
mv "$out.tmp" "$out"
cat "$out"
