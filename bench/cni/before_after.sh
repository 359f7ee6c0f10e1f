#!/bin/bash
# Before/after of one change: cni_bench nat and bridge chains (n=100), the plugins of BEFORE_BIN
# against this tree's build/bin, alternated twice. Needs build-bench/bin/cni_bench (-DTETHER_BENCH=ON).
set -e
root=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
before=${BEFORE_BIN:?BEFORE_BIN: the bin dir of the build to compare against}
tmp=$(mktemp -d)
for impl in before after; do
  src=$before; [[ $impl == after ]] && src=$root/build/bin
  mkdir -p $tmp/$impl; for p in bridge host-local portmap; do ln -s $src/$p $tmp/$impl/$p; done
done
unshare --net --mount --propagation private bash -s -- "$tmp" "$root" <<'INNER'
tmp=$1 root=$2
ip link set lo up
mkdir -p $tmp/netns && mount -t tmpfs tmpfs $tmp/netns
for round in 1 2; do
 for impl in before after; do
  for chain in nat bridge; do
   ports=""; [[ $chain == nat ]] && ports=--ports
   mkdir -p $tmp/data-$impl-$chain-$round
   $root/build-bench/bin/cni_bench --chain $root/bench/cni/chains/$chain.json --plugins $tmp/$impl --label "$impl $chain r$round" --count 100 --bridge tb$round${impl:0:1}${chain:0:1} --subnet 10.9$round.0.0/16 $ports --netns-dir $tmp/netns --data-dir $tmp/data-$impl-$chain-$round/ipam 2>&1 | grep '^|'
  done
 done
done
umount $tmp/netns
INNER
rm -rf $tmp
