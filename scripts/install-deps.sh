#!/usr/bin/env bash
# Installs what tether needs from Debian packages. Idempotent: packages already present are skipped.
#   scripts/install-deps.sh          build and run dependencies only (the README's main job)
#   scripts/install-deps.sh --tests  also the test tools and the peers the tests and benchmarks
#                                    compare with (scripts/test.sh, .ci/run)
set -euo pipefail

# Build: compilers, CMake, and the libraries the code links (libnftables and libsystemd's sd-bus
# are loaded with dlopen; libsystemd-dev only provides the sd-bus header).
build_pkgs=(build-essential cmake pkg-config
  libnl-3-dev libnl-route-3-dev libmnl-dev nlohmann-json3-dev libspdlog-dev
  libseccomp-dev libcap-dev libsystemd-dev nettle-dev libcli11-dev catch2)
# Run: libnftables for the default NAT backend, iptables for the other one, busybox for the
# built-in rootfs, util-linux/procps/iproute2 for the runtime's helpers and the main job's output.
run_pkgs=(libnftables1 iptables busybox-static iproute2 util-linux procps)
# Tests: tools the test scripts call, man-page and package tooling, CI's format and lint checks
# (clang-tidy-16, not bookworm's default 14: scripts/check-tidy.sh needs clang 16 for <expected>).
test_pkgs=(git nftables conntrack iputils-ping python3 dpkg-dev fakeroot man-db
  clang-format clang-tidy-16)
# Peers the tests and benchmarks run side by side with ours (containerd + grpc: tests/k8s).
peer_pkgs=(containernetworking-plugins runc crun podman hyperfine
  containerd python3-grpcio python3-grpc-tools)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
case "${1:-}" in
"") ;;
--tests) want+=("${test_pkgs[@]}" "${peer_pkgs[@]}") ;;
*)
  echo "usage: $0 [--tests]" >&2
  exit 2
  ;;
esac

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
