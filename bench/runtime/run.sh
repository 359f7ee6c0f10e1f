#!/usr/bin/env bash
# Runtime overhead of `tether net`: a one-plugin list whose plugin does nothing, against exec'ing
# that plugin directly (hyperfine medians), and `tether net add/del` of the default-style chain
# (bridge ipMasq + host-local + portmap) for N containers. Scratch net+mount namespace.
#   bench/runtime/run.sh [N]     writes bench/results/runtime.md
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-200}
out=$root/bench/results/runtime.md
mkdir -p "$root/bench/results"
unshare --net --mount --propagation private bash -s -- "$root" "$n" > "$out.tmp" <<'INNER'
set -euo pipefail
root=$1 n=$2 bin=$root/build/bin
ip link set lo up
w=$(mktemp -d); mount -t tmpfs none "$w"; mkdir -p "$w/conf" "$w/plugins" "$w/cache" "$w/ns"
ln -s "$bin/noop-plugin" "$w/plugins/noop"
for p in bridge host-local portmap; do ln -s "$bin/$p" "$w/plugins/$p"; done
cat > "$w/conf/noop.conflist" <<EOC
{"cniVersion":"1.1.0","name":"noop","plugins":[{"type":"noop"}]}
EOC
cat > "$w/conf/chain.conflist" <<EOC
{"cniVersion":"1.1.0","name":"chain","plugins":[
 {"type":"bridge","bridge":"rbench0","isGateway":true,"ipMasq":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"10.96.0.0/16"}]],"dataDir":"$w/ipam"}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOC
export NETCONFPATH=$w/conf CNI_PATH=$w/plugins CNI_CACHE_DIR=$w/cache
touch "$w/ns/x"; unshare --net="$w/ns/x" true
echo "# Runtime overhead ($(date -u +%F), $(nproc) cores)"
echo
echo "hyperfine medians (ms):"
echo
echo '```'
hyperfine -N -w 20 -r 300 --export-json "$w/h.json" \
  "env CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=$w/ns/x CNI_IFNAME=eth0 $bin/noop-plugin" \
  "$bin/tether net add noop $w/ns/x --id bench" 2>&1 | grep -E "Benchmark|Time"
echo '```'
echo
echo "\`tether net add\` / \`del\` of bridge(ipMasq)+host-local+portmap for $n containers (ms):"
echo
adds=(); dels=()
for i in $(seq 1 "$n"); do touch "$w/ns/c$i"; unshare --net="$w/ns/c$i" true; done
for i in $(seq 1 "$n"); do
  s=$(date +%s%N); $bin/tether net add chain "$w/ns/c$i" --id c$i --cap "{\"portMappings\":[{\"hostPort\":$((20000+i)),\"containerPort\":80}]}" >/dev/null; e=$(date +%s%N)
  adds+=($(( (e-s)/1000 )))
done
for i in $(seq 1 "$n"); do
  s=$(date +%s%N); $bin/tether net del chain "$w/ns/c$i" --id c$i --cap "{\"portMappings\":[{\"hostPort\":$((20000+i)),\"containerPort\":80}]}"; e=$(date +%s%N)
  dels+=($(( (e-s)/1000 )))
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'; }
first=("${adds[@]:0:100}"); last=("${adds[@]: -100}")
echo "| op | median | first 100 | last 100 |"
echo "|---|---|---|---|"
echo "| add | $(med "${adds[@]}") | $(med "${first[@]}") | $(med "${last[@]}") |"
echo "| del | $(med "${dels[@]}") | | |"
for i in $(seq 1 "$n"); do umount "$w/ns/c$i"; done; umount "$w/ns/x"
umount -l "$w"
INNER
mv "$out.tmp" "$out"
cat "$out"
