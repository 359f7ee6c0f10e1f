// The undo stack of a multi-step change (a plugin's ADD): every finished step pushes how to
// reverse it; if the change returns early, the destructor runs the steps in reverse. commit() as
// the last step keeps everything.
#pragma once

#include <functional>
#include <vector>

namespace tether {

class UndoStack {
  public:
    UndoStack() = default;
    UndoStack(const UndoStack&) = delete;
    UndoStack& operator=(const UndoStack&) = delete;
    /// Runs the pending steps in reverse unless commit() was called.
    ~UndoStack() {
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it)
            (*it)();
    }
    /// Registers the reversal of a step that just succeeded. Steps must not throw.
    void push(std::function<void()> step) { steps_.push_back(std::move(step)); }
    /// Keeps everything: nothing is undone.
    void commit() { steps_.clear(); }

  private:
    std::vector<std::function<void()>> steps_;
};

} // namespace tether
