#include "nat/element_store.hpp"

#include <linux/netfilter.h>

#include "nat/nat_table.hpp"

namespace tether::nat {

namespace {

class KernelStore final : public ElementStore {
  public:
    Status ensure() override { return ensureTable(); }
    Expected<std::vector<net::SetElem>> list(const std::vector<std::string>& sets) override {
        return listElements(sets);
    }
    Expected<std::vector<net::SetElem>> get(const std::vector<net::SetElem>& keys) override {
        return net::getSetElements(NFPROTO_INET, kTableName, keys);
    }
    Status commit(const net::SetChanges& changes, std::string_view what) override {
        return nat::commit(changes, what);
    }
};

} // namespace

ElementStore& kernelStore() {
    static KernelStore store;
    return store;
}

} // namespace tether::nat
