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

/// The value at fraction `p` (0..1) of the sorted `v`, rounded to the nearest rank (0 for an
/// empty vector): percentile(v, 0.99) is the p99.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = size_t(p * double(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

} // namespace tether::bench
