#!/usr/bin/env bash
# Installs everything tether needs to build, test and benchmark, from Debian packages.
# Idempotent: packages already present are skipped. Used by the README and by .ci/run.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config git
  libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev libnftables-dev nlohmann-json3-dev libspdlog-dev
  catch2 libcli11-dev libseccomp-dev libcap-dev libsystemd-dev
  python3 dpkg-dev fakeroot man-db) # python3: man pages; dpkg-dev, fakeroot: cpack -G DEB
run_pkgs=(iproute2 nftables iptables conntrack iputils-ping busybox-static util-linux procps)
peer_pkgs=(containernetworking-plugins runc crun podman hyperfine
  containerd python3-grpcio python3-grpc-tools) # containerd, grpc: tests/k8s (CRI)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[[ "${TETHER_WITH_PEERS:-1}" == 1 ]] && want+=("${peer_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all packages present"
fi
