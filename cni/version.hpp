// CNI spec versions: the list we support, comparison, and which commands a version allows.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether::cni {

/// Every spec version we read and write: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.
std::span<const std::string_view> supportedVersions();

/// The newest version we implement ("1.1.0").
constexpr std::string_view kCurrentVersion = "1.1.0";

/// True when `v` is exactly one of supportedVersions() (string match, as the reference skel does).
bool isSupported(std::string_view v);

/// Compares two "MAJOR.MINOR.PATCH" strings numerically; returns <0, 0, >0.
/// Unparseable strings compare as 0.0.0.
int compareVersions(std::string_view a, std::string_view b);

/// Code 1 "incompatible CNI versions" unless `v` is supported; details list what we support.
Status requireSupported(std::string_view v);

/// Code 1 unless `v` allows `command` (CHECK needs >= 0.4.0; STATUS and GC need >= 1.1.0).
Status requireCommandAllowed(std::string_view command, std::string_view v);

} // namespace tether::cni
