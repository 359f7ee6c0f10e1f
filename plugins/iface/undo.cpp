#include "plugins/iface/undo.hpp"

namespace tether::plugin {

UndoStack::~UndoStack() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it)
        (*it)();
}

} // namespace tether::plugin
