# CPack: `cpack -G DEB` (or `cpack --config CPackConfig.cmake`) in the build dir writes
#   tether_<version>_<arch>.deb             the CLI, man pages, completion, systemd units, tmpfiles.d
#   tether-cni-plugins_<version>_<arch>.deb the plugins (tether-cni, its links, masquerade)
# Both install below /usr. See docs/packaging.md for the layout and the dependency choices.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tether)
set(CPACK_PACKAGE_VENDOR "The tether authors")
set(CPACK_PACKAGE_CONTACT "The tether authors <tether@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "container networking: CNI plugins, runtime and launcher")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli plugins)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/tether/tether")
# Depends on the shared libraries the executables link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

set(pkg_version "${PROJECT_VERSION}")

# tether: the CLI. The plugins it runs are a hard dependency of the same version. busybox-static
# provides the default rootfs (`tether run` without --rootfs/--image copies /bin/busybox, which
# must be static); a Recommends, as containers with their own rootfs do not need it.
set(CPACK_DEBIAN_CLI_PACKAGE_NAME tether)
set(CPACK_DEBIAN_CLI_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "tether-cni-plugins (= ${pkg_version})")
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "busybox-static, nftables")
set(CPACK_DEBIAN_CLI_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_DEBIAN_CLI_DESCRIPTION
    "container networking CLI: CNI network lists, container launcher, test fixtures\n\
tether executes CNI network configuration lists as libcni does (cnitool-compatible),\n\
runs containers in their own namespaces and cgroups with a network wired through CNI\n\
plugins, and brings up throwaway network topologies for tests.")
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/tether/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/tether/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/tether/postrm)
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# tether-cni-plugins: libnftables1 is dlopen()ed for NAT (ipMasq, portmap: the default nftables
# backend), so shlibdeps cannot see it; iptables is only needed for the optional iptables backend.
set(CPACK_DEBIAN_PLUGINS_PACKAGE_NAME tether-cni-plugins)
set(CPACK_DEBIAN_PLUGINS_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PLUGINS_PACKAGE_DEPENDS "libnftables1")
set(CPACK_DEBIAN_PLUGINS_PACKAGE_RECOMMENDS "iptables")
set(CPACK_DEBIAN_PLUGINS_DESCRIPTION
    "CNI plugins compatible with the reference containernetworking plugins\n\
bridge, veth (ptp), loopback, host-local, static, portmap, tuning, bandwidth, macvlan, host-device,\n\
sbr, tap, firewall, dhcp (IPAM; run `dhcp daemon`) and masquerade:\n\
drop-in replacements for the reference plugins (spec 0.1.0-1.1.0), with NAT on\n\
nftables sets and maps. Installed in their own directory (${TETHER_CNI_DIR} below /usr).")
# The plugins' own directory shares no file with containernetworking-plugins, so both install
# side by side. Configured into the reference's directory (-DTETHER_CNI_DIR=lib/cni), the files
# would collide: then the package Conflicts with it, so dpkg/apt make the admin choose one.
get_filename_component(pkg_cni_dir "${TETHER_CNI_DIR}" ABSOLUTE BASE_DIR /usr)
if(pkg_cni_dir STREQUAL "/usr/lib/cni" OR pkg_cni_dir STREQUAL "/opt/cni/bin")
  set(CPACK_DEBIAN_PLUGINS_PACKAGE_CONFLICTS "containernetworking-plugins")
  set(CPACK_DEBIAN_PLUGINS_PACKAGE_REPLACES "containernetworking-plugins")
  set(CPACK_DEBIAN_PLUGINS_PACKAGE_PROVIDES "containernetworking-plugins")
endif()

set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/cpack_links.cmake)

include(CPack)
