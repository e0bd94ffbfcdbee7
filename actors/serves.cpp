#include "actors/serves.hpp"

#include <fnmatch.h>

namespace remex::actors {

bool serves_target(const std::vector<std::string>& patterns,
                   const std::string& target) {
  if (target.empty()) return true;
  // Host groups ("@web") were expanded by the node that owns them
  // (config::expand_group_patterns) before the patterns got here.
  for (auto& p : patterns)
    if (::fnmatch(p.c_str(), target.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace remex::actors
