#!/bin/sh
# Copies tether's plugins into the node's CNI binary directory (mounted at /host/opt/cni/bin) the
# way cluster network add-ons install theirs: the multi-call binary under a temporary name, then
# renamed (a runtime running a plugin at that moment keeps the old file), then one symlink per
# plugin name pointing at it. TETHER_PLUGINS picks the names (default: all that flannel's
# delegate and the kubelet's capabilities use). Existing files of those names are replaced: that
# is the point of a drop-in, and why the DaemonSet is opt-in per node (nodeSelector).
set -eu
SRC=${TETHER_CNI_SRC:-/usr/lib/tether/cni}
DST=${TETHER_CNI_DST:-/host/opt/cni/bin}
PLUGINS=${TETHER_PLUGINS:-"bridge host-local loopback portmap bandwidth tuning veth ptp"}
cp "$SRC/tether-cni" "$DST/.tether-cni.new"
chmod 0755 "$DST/.tether-cni.new"
mv -f "$DST/.tether-cni.new" "$DST/tether-cni"
for p in $PLUGINS; do
    ln -sfn tether-cni "$DST/.$p.new"
    mv -Tf "$DST/.$p.new" "$DST/$p"
done
echo "tether-cni installed in $DST: $PLUGINS"
