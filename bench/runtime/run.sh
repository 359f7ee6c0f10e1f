#!/usr/bin/env bash
# Runtime benchmark, in a scratch net + mount namespace:
#  1. the list executor's own cost per operation, in-process (runtime_bench --noop): addNetwork /
#     delNetwork of a one-plugin list whose plugin does nothing, against exec'ing that plugin;
#  2. the bridge(ipMasq)+host-local+portmap chain for N containers through the library
#     (runtime_bench --chain; medians, first/last 100, growth);
#  3. the `tether net add` CLI (process start included) against exec'ing the no-op plugin, and
#     `tether net add` of the chain at N existing containers (hyperfine medians).
#   bench/runtime/run.sh [N]     (default 1000) writes bench/results/runtime.md
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000}
out=$root/bench/results/runtime.md
mkdir -p "$root/bench/results"
BENCH_TRACE=${BENCH_TRACE:-} unshare --net --mount --propagation private bash -s -- "$root" "$n" > "$out.tmp" <<'INNER'
set -euo pipefail
root=$1 n=$2 bin=$root/build/bin
[ -n "${BENCH_TRACE:-}" ] && set -x
ip link set lo up
w=$(mktemp -d); mount -t tmpfs none "$w"; mkdir -p "$w/conf" "$w/plugins" "$w/ns"
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
echo "# Runtime benchmark ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
echo
echo "## The list executor in-process (ms, medians)"
echo
echo "| what | runs | median |"
echo "|---|---|---|"
"$bin/runtime_bench" --noop "$w/conf" "$w/plugins" 500
echo
echo "## bridge(ipMasq)+host-local+portmap through the library (ms)"
echo
echo "| op | containers | median | first 100 | last 100 | growth |"
echo "|---|---|---|---|---|---|"
"$bin/runtime_bench" --chain "$w/conf" chain "$w/plugins" "$n"
echo
echo "## The \`tether net\` CLI, process start included (hyperfine)"
echo
export NETCONFPATH=$w/conf CNI_PATH=$w/plugins CNI_CACHE_DIR=$w/cache
touch "$w/ns/x"; unshare --net="$w/ns/x" true
echo '```'
hyperfine -N -w 20 -r 300 \
  "env CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=$w/ns/x CNI_IFNAME=eth0 $bin/noop-plugin" \
  "$bin/tether net add noop $w/ns/x --id bench" 2>&1 | grep -E "Benchmark|Time"
# The chain up to n containers: n - 50 added first, then 50 timed runs, each adding one more
# container (its own netns and port), so the samples are the ADDs of containers n-49 .. n.
# (A Linux bridge takes at most 1023 ports.)
runs=50
pre=$((n > runs ? n - runs : 0))
for i in $(seq 1 "$pre"); do touch "$w/ns/c$i"; unshare --net="$w/ns/c$i" true; done
for i in $(seq 1 "$pre"); do
  $bin/tether net add chain "$w/ns/c$i" --id c$i --cap "{\"portMappings\":[{\"hostPort\":$((20000+i)),\"containerPort\":80}]}" >/dev/null
done
for i in $(seq 1 $runs); do touch "$w/ns/h$i"; unshare --net="$w/ns/h$i" true; done
# One run per new container (h1..h50, each its own netns and host port), so every sample is an
# ADD at n existing containers; -N: no shell in between.
hyperfine -N -r 1 ${BENCH_TRACE:+--show-output} --parameter-scan i 1 $runs --export-json "$w/chain.json" \
  "$bin/tether net add chain $w/ns/h{i} --id h{i} --cap '{\"portMappings\":[{\"hostPort\":3{i}0,\"containerPort\":80}]}'" \
  >/dev/null 2>"$w/hyperfine.err" || { cat "$w/hyperfine.err" >&2; exit 1; }
python3 -c "
import json, statistics, sys
t = [r['times'][0] * 1000 for r in json.load(open(sys.argv[1]))['results']]
print(f'tether net add chain, containers {int(sys.argv[2]) + 1}..{int(sys.argv[2]) + len(t)}: median {statistics.median(t):.2f} ms over {len(t)} runs')
" "$w/chain.json" "$pre"
echo '```'
for i in $(seq 1 "$pre"); do umount "$w/ns/c$i"; done
for i in $(seq 1 $runs); do umount "$w/ns/h$i"; done
umount "$w/ns/x"
umount -l "$w"
INNER
mv "$out.tmp" "$out"
cat "$out"
