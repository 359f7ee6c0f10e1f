#!/usr/bin/env bash
# Peak RSS (ru_maxrss) and CPU time (user + sys) of every plugin process per ADD and DEL, ours
# (build/bin) and the reference (/usr/lib/cni) through the same driver in the same run, in a
# scratch network + mount namespace. Medians over R containers.
#   bench/memory/run.sh [R]        (default 20; results to stdout)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TETHER_BIN_DIR:-$root/build/bin}
ref=${REFERENCE_CNI_DIR:-/usr/lib/cni}
count=${1:-20}
if [[ -z ${TETHER_MEM_INNER:-} ]]; then
  exec env TETHER_MEM_INNER=1 unshare --net --mount --propagation private "$0" "$@"
fi
work=$(mktemp -d /tmp/tether-bench-mem.XXXXXX)
mount -t tmpfs -o mode=711 tmpfs "$work"
trap 'awk -v w="$work" "index(\$5, w) == 1 {print \$5}" /proc/self/mountinfo | sort -r | xargs -r umount -l; rmdir "$work"' EXIT
ip link set lo up
plugins="bridge host-local portmap firewall tuning bandwidth loopback"
mkdir -p "$work/ours" "$work/reference" "$work/ns"
for p in $plugins; do
  ln -s "$bin/$p" "$work/ours/$p"
  ln -s "$ref/$p" "$work/reference/$p"
done
for impl in ours reference; do
  "$bin/plugin_rusage" --plugins "$work/$impl" --label "$impl" --count "$count" \
    --netns-dir "$work/ns" --data-dir "$work/ipam-$impl" >"$work/$impl.tsv"
  ip link del membr0 2>/dev/null || true
  nft flush ruleset
done
echo "# Plugin memory and CPU per operation ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "Median over $count containers of each plugin process's ru_maxrss and user+sys CPU time"
echo "(bridge includes its delegated host-local; host-local is also measured on its own)."
echo
echo "| plugin | op | ours RSS KiB | reference RSS KiB | ours/ref RSS | ours CPU ms | reference CPU ms |"
echo "|---|---|---:|---:|---:|---:|---:|"
join -t $'\t' <(awk -F'\t' '{print $2" "$3"\t"$4"\t"$5}' "$work/ours.tsv" | sort) \
  <(awk -F'\t' '{print $2" "$3"\t"$4"\t"$5}' "$work/reference.tsv" | sort) |
  awk -F'\t' '{split($1, k, " "); printf "| %s | %s | %d | %d | %.2f | %.2f | %.2f |\n", k[1], k[2], $2, $4, $2/$4, $3, $5}'
RUSAGE_TARGET=/bin/true RUSAGE_OUT=$work/floor "$bin/rusage_exec"
echo
RUSAGE_TARGET=$bin/static_true RUSAGE_OUT=$work/floor-static "$bin/rusage_exec"
echo "Floor (the same wrapper exec'ing /bin/true): $(awk '{print $1 " KiB, " $2 " ms"}' "$work/floor");"
echo "static floor (the wrapper exec'ing a static empty main, bench/memory/static_true.c): $(awk '{print $1 " KiB, " $2 " ms"}' "$work/floor-static")."
sizes=""
for f in tether-cni loopback tuning bandwidth firewall; do
  [[ -e $bin/$f ]] && sizes+="$(stat -L -c %s "$bin/$f") $f, "
done
echo "ours (bytes): ${sizes%, } (bridge, host-local, portmap are tether-cni); reference bridge $(stat -L -c %s "$ref/bridge")"
