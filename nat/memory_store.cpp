#include "nat/memory_store.hpp"

#include <cerrno>

#include "nat/nat_table.hpp"

namespace tether::nat {

namespace {

Error noEntry(std::string_view what, const std::string& detail) {
    return Error{Code::Kernel, std::string(what) + ": " + detail, {}, ENOENT};
}

} // namespace

MemoryStore::MemoryStore(bool tableExists) : table_(tableExists) {
    if (table_)
        for (const auto& s : allSets())
            sets_.insert(s);
}

Status MemoryStore::ensure() {
    if (!table_) {
        table_ = true;
        for (const auto& s : allSets())
            sets_.insert(s);
    }
    return {};
}

std::vector<net::SetElem> MemoryStore::elements() const {
    std::vector<net::SetElem> out;
    out.reserve(elems_.size());
    for (const auto& [k, e] : elems_)
        out.push_back(e);
    return out;
}

std::vector<net::SetElem> MemoryStore::ownedBy(const std::string& owner) const {
    std::vector<net::SetElem> out;
    for (const auto& [k, e] : elems_)
        if (e.comment == owner) out.push_back(e);
    return out;
}

Expected<std::vector<net::SetElem>> MemoryStore::list(const std::vector<std::string>& sets) {
    std::vector<net::SetElem> out;
    if (!table_) return out;
    for (const auto& s : sets) {
        if (!sets_.contains(s)) return out; // as listElements: a missing set ends the listing
        for (const auto& [k, e] : elems_)
            if (e.set == s) out.push_back(e);
    }
    return out;
}

Expected<std::vector<net::SetElem>> MemoryStore::get(const std::vector<net::SetElem>& keys) {
    if (!table_) return std::unexpected(noEntry("get elements", "no table inet tether"));
    std::vector<net::SetElem> out;
    for (const auto& k : keys) {
        if (!sets_.contains(k.set))
            return std::unexpected(noEntry("get elements", "no set " + k.set));
        if (auto it = elems_.find(keyOf(k)); it != elems_.end()) out.push_back(it->second);
    }
    return out;
}

Status MemoryStore::commit(const net::SetChanges& changes, std::string_view what) {
    if (changes.del.empty() && changes.create.empty() && changes.add.empty()) return {};
    if (!table_) return std::unexpected(noEntry(what, "no table inet tether"));
    auto next = elems_; // applied to a copy: all or nothing
    for (const auto* list : {&changes.del, &changes.create, &changes.add})
        for (const auto& e : *list)
            if (!sets_.contains(e.set)) return std::unexpected(noEntry(what, "no set " + e.set));
    for (const auto& e : changes.del)
        if (next.erase(keyOf(e)) == 0)
            return std::unexpected(noEntry(what, "no such element in " + e.set));
    for (const auto& e : changes.create)
        if (!next.emplace(keyOf(e), e).second)
            return std::unexpected(Error{
                Code::Conflict, std::string(what) + ": element exists in " + e.set, {}, EEXIST});
    for (const auto& e : changes.add)
        next.emplace(keyOf(e), e); // an existing element is kept as it is
    elems_ = std::move(next);
    ++transactions_;
    return {};
}

} // namespace tether::nat
