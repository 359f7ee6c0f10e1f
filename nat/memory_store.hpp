// The in-memory fake of the nftables element store: the state a sequence of NAT operations
// leaves, without root or a kernel, for the planning tests (tests/unit/test_nat_plan.cpp). It
// keeps nf_tables' transaction rules (ElementStore), so a plan that the kernel would refuse is
// refused here too.
#pragma once

#include <map>
#include <set>
#include <tuple>

#include "nat/element_store.hpp"

namespace tether::nat {

class MemoryStore final : public ElementStore {
  public:
    /// A store whose table exists with every static set of nat::allSets(); `tableExists` false:
    /// no table until ensure() (list answers nothing, get and commit ENOENT).
    explicit MemoryStore(bool tableExists = true);
    /// Creates a set (as a portmap config's condition set is made).
    void addSet(const std::string& name) { sets_.insert(name); }
    [[nodiscard]] bool hasSet(const std::string& name) const { return sets_.contains(name); }
    /// Every element, ordered by set and key.
    [[nodiscard]] std::vector<net::SetElem> elements() const;
    /// The elements of one owner tag.
    [[nodiscard]] std::vector<net::SetElem> ownedBy(const std::string& owner) const;
    /// How many commits were made that changed something (a no-op commit sends nothing).
    [[nodiscard]] int transactions() const { return transactions_; }

    Status ensure() override;
    Expected<std::vector<net::SetElem>> list(const std::vector<std::string>& sets) override;
    Expected<std::vector<net::SetElem>> get(const std::vector<net::SetElem>& keys) override;
    Status commit(const net::SetChanges& changes, std::string_view what) override;

  private:
    using Key = std::tuple<std::string, std::vector<uint8_t>, std::vector<uint8_t>>;
    static Key keyOf(const net::SetElem& e) { return {e.set, e.key, e.keyEnd}; }
    bool table_;
    std::set<std::string> sets_;
    std::map<Key, net::SetElem> elems_;
    int transactions_ = 0;
};

} // namespace tether::nat
