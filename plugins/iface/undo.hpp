// The plugins' name for the undo stack, which lives in base/ (base/undo_stack.hpp).
#pragma once

#include "base/undo_stack.hpp"

namespace tether::plugin {

using UndoStack = tether::UndoStack;

} // namespace tether::plugin
