// The errors of a teardown (DEL, GC, restore) that runs every step whatever fails before.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace tether {

class ErrorList {
  public:
    /// Records a failed step (a Status or any Expected); a successful one is ignored.
    template <class T> void add(const Expected<T>& step) {
        if (!step) errors_.push_back(step.error());
    }
    /// Records a failed step with what it was doing ("remove cgroup": Error::wrap).
    template <class T> void add(const Expected<T>& step, std::string_view context) {
        if (!step) errors_.push_back(step.error().wrap(context));
    }
    /// Records an error.
    void add(Error e) { errors_.push_back(std::move(e)); }
    [[nodiscard]] bool empty() const { return errors_.empty(); }
    [[nodiscard]] const std::vector<Error>& errors() const { return errors_; }

    /// Success when nothing failed. Else the first error's code and errno, so the caller sees
    /// why the teardown stopped short, with the message "<what> incomplete: <first>; <second>…"
    /// (each error's text(), details included; no prefix when `what` is empty) and no details.
    [[nodiscard]] Status result(std::string_view what = "") const {
        if (errors_.empty()) return {};
        Error e = errors_.front();
        e.msg = what.empty() ? "" : std::string(what) + " incomplete: ";
        for (size_t i = 0; i < errors_.size(); ++i)
            e.msg += (i ? "; " : "") + errors_[i].text();
        e.details.clear();
        return std::unexpected(std::move(e));
    }

  private:
    std::vector<Error> errors_;
};

} // namespace tether
