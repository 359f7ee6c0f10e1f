#!/usr/bin/env bash
# Before/after of the pod-start storm: the same storm (build/bin/storm, bridge(ipMasq) +
# host-local + portmap, one port mapping each) for two or more plugin directories, interleaved
# round by round (a shared machine's load hits every directory alike), each phase on a fresh ext4
# for its IPAM files and with netns pins on a tmpfs, in a scratch network + mount namespace.
#   bench/cni/storm_ab.sh ROUNDS N "K..." DIR...      e.g. storm_ab.sh 4 110 "1 8" /tmp/old build/bin
# Prints one storm.md row per run (label = the directory's basename); compare medians per column.
set -euo pipefail
if [[ -z ${TETHER_STORM_INNER:-} ]]; then
  exec env TETHER_STORM_INNER=1 unshare --net --mount --propagation private "$0" "$@"
fi
rounds=$1 count=$2 concs=$3
shift 3
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TETHER_BIN_DIR:-$root/build/bin}
ip link set lo up
work=$(mktemp -d /tmp/tether-storm-ab.XXXXXX)
mkdir -p "$work/netns" && mount -t tmpfs tmpfs "$work/netns"
trap 'umount "$work/netns"; rm -rf "$work"' EXIT
i=0
for _ in $(seq "$rounds"); do
  for k in $concs; do
    for dir in "$@"; do
      i=$((i + 1))
      truncate -s 256M "$work/img" && mkfs.ext4 -q -F -O ^has_journal "$work/img"
      mkdir -p "$work/data" && mount -o loop "$work/img" "$work/data"
      "$bin/storm" --chain "$root/bench/cni/chains/nat.json" --plugins "$dir" \
        --label "$(basename "$dir")" --count "$count" --concurrency "$k" --ports \
        --bridge "sab$i" --subnet "10.$((100 + i % 50)).0.0/16" --netns-dir "$work/netns" \
        --data-dir "$work/data/ipam"
      umount "$work/data" && rm -f "$work/img"
    done
  done
done
