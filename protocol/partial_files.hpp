// The partial files of `remex cp`: a file is written under a temporary name
// beside its destination and renamed into place once complete. The name's
// last element ends in partial_file_mark, which is what lets an agent (and
// remex on this machine) make sure an unfinished one does not outlive the
// copy (tools/remex-agent/README.md, "Partial files of a copy").
#pragma once

#include <string>

namespace remex::protocol {

inline const std::string partial_file_mark = ".remex-part";

// Whether path's last element carries the mark (and more than the mark).
inline bool is_partial_name(const std::string& path) {
  auto slash = path.rfind('/');
  auto base = slash == std::string::npos ? path : path.substr(slash + 1);
  auto& mark = partial_file_mark;
  return base.size() > mark.size() &&
         base.compare(base.size() - mark.size(), mark.size(), mark) == 0;
}

}  // namespace remex::protocol
