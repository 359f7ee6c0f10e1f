// A private temporary directory removed (recursively) when the object dies.
#pragma once

#include <filesystem>
#include <string>

namespace tether::test {

class TempDir {
  public:
    /// Creates /tmp/tether-test-XXXXXX (0700). Aborts the test on failure.
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    /// path() / name as a string.
    [[nodiscard]] std::string operator/(const std::string& name) const {
        return (path_ / name).string();
    }

  private:
    std::filesystem::path path_;
};

/// Directory with the built executables (plugins, tether): build/bin.
inline std::string binDir() {
    return TETHER_BIN_DIR;
}
/// Root of the source tree.
inline std::string sourceDir() {
    return TETHER_SOURCE_DIR;
}

} // namespace tether::test
