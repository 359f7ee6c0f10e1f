#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>

namespace tether::test {

TempDir::TempDir() {
    std::string tmpl = "/tmp/tether-test-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

} // namespace tether::test
