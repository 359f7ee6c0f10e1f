#!/usr/bin/env bash
# Side-by-side CNI benchmark: our plugins (build/bin) and the reference plugins (/usr/lib/cni)
# through the same driver in the same run, plus the driver's floor (no-op plugin) and the kernel's
# own veth deletion time. Everything runs in a scratch network + mount namespace.
#   bench/cni/run.sh [CHAIN] [COUNTS...]     CHAIN = bridge (default) | nat | conflist
# Writes bench/results/cni-<chain>.md (BENCH_OUT overrides) and prints it. conflist is podman's
# generated shape: bridge (ipMasq) + host-local + portmap + firewall + tuning.
# The IPAM files of every phase (implementation x count) live on a fresh ext4 filesystem (a loop
# image; BENCH_DATA_MKFS_OPTS, default "-O ^has_journal" like this machine's root fs), so no phase
# inherits the file deletions of the one before: on ext4 a new inode is searched for past every
# inode freed in the last minutes, which would tax each phase's ADDs by the previous phase's DELs.
# BENCH_DATA_FS=root keeps the IPAM files under /tmp on the root filesystem instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
chain=${1:-bridge}; shift || true
counts=${*:-"1 100 1000"}
bin=${TETHER_BIN_DIR:-$root/build/bin}
ref=${REFERENCE_CNI_DIR:-/usr/lib/cni}
out=${BENCH_OUT:-$root/bench/results/cni-$chain.md}
mkdir -p "$root/bench/results"
ports=""; [[ $chain == nat || $chain == conflist ]] && ports="--ports"

# CNI_PATH directories holding exactly the binaries of one implementation.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ours" "$tmp/ref" "$tmp/noop"
for p in bridge host-local portmap firewall tuning; do
  [[ -x $bin/$p ]] && ln -s "$bin/$p" "$tmp/ours/$p"
  [[ -x $ref/$p ]] && ln -s "$ref/$p" "$tmp/ref/$p"
done
ln -s "$bin/noop-plugin" "$tmp/noop/noop-plugin"

unshare --net --mount --propagation private bash -s -- "$tmp" "$chain" "$counts" "$ports" "$bin" "$root" > "$out.tmp" <<'INNER'
set -euo pipefail
tmp=$1 chain=$2 counts=$3 ports=$4 bin=$5 root=$6
ip link set lo up
# A fresh filesystem for one phase's IPAM files; prints the cni_bench option (none on fallback).
fs_note="IPAM files on the root filesystem (/tmp)"
data_for() {
  [[ ${BENCH_DATA_FS:-fresh} == root ]] && return 0
  local img=$tmp/data-$1.img dir=$tmp/data-$1
  mkdir -p "$dir"
  if truncate -s 512M "$img" && mkfs.ext4 -q -F ${BENCH_DATA_MKFS_OPTS--O ^has_journal} "$img" \
     && mount -o loop "$img" "$dir" 2>/dev/null; then
    echo "--data-dir $dir/ipam"
  fi
}
done_with() { mountpoint -q "$tmp/data-$1" && umount "$tmp/data-$1"; rm -f "$tmp/data-$1.img"; }
if [[ ${BENCH_DATA_FS:-fresh} != root ]] && [[ -n $(data_for probe) ]]; then
  fs_note="IPAM files on a fresh ext4 per phase (mkfs.ext4 ${BENCH_DATA_MKFS_OPTS--O ^has_journal})"
fi
done_with probe
# Netns pins on a tmpfs, as /run/netns is on a real host (see cni_bench --netns-dir).
mkdir -p "$tmp/netns" && mount -t tmpfs tmpfs "$tmp/netns"
pins="--netns-dir $tmp/netns"
echo "# CNI benchmark: $chain chain ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "Plugin exec wall time per container operation, in ms (median). growth = last-100 / first-100."
echo "$fs_note; netns pins on a tmpfs."
echo
echo "| implementation | op | containers | median | first 100 | last 100 | growth |"
echo "|---|---|---|---|---|---|---|"
$bin/cni_bench --veth-floor 50
for n in $counts; do
  $bin/cni_bench --chain "$root/bench/cni/chains/noop.json" --plugins "$tmp/noop" --label "no-op floor" --count "$n" $pins
  data=$(data_for "ours-$n")
  $bin/cni_bench --chain "$root/bench/cni/chains/$chain.json" --plugins "$tmp/ours" --label "tether n=$n" --count "$n" --bridge tbench0 --subnet 10.98.0.0/16 $ports $pins $data
  done_with "ours-$n"
  data=$(data_for "ref-$n")
  $bin/cni_bench --chain "$root/bench/cni/chains/$chain.json" --plugins "$tmp/ref" --label "reference n=$n" --count "$n" --bridge rbench0 --subnet 10.97.0.0/16 $ports $pins $data
  done_with "ref-$n"
done
umount "$tmp/netns"
INNER
mv "$out.tmp" "$out"
cat "$out"
