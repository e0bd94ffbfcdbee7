#include "actors/serves.hpp"

#include <fnmatch.h>

namespace remex::actors {

bool serves_target(const std::vector<std::string>& patterns,
                   const std::string& target) {
  if (target.empty()) return true;
  // Hook for host groups (config/host_groups, another branch): a pattern
  // that names a group would be expanded to its members here, before the
  // globs; today every pattern is a glob.
  for (auto& p : patterns)
    if (::fnmatch(p.c_str(), target.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace remex::actors
