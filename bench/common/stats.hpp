// Small statistics shared by the benchmark drivers.
#pragma once

#include <algorithm>
#include <vector>

namespace tether::bench {

/// The median of `v` (0 for an empty vector).
inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Up to `n` values of `v` starting at `from` (empty when `from` is past the end).
inline std::vector<double> slice(const std::vector<double>& v, size_t from, size_t n) {
    if (from >= v.size()) return {};
    return {v.begin() + long(from), v.begin() + long(std::min(v.size(), from + n))};
}

} // namespace tether::bench
