#include "tools/remex-agent/path_enum.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace remex::agent {

std::vector<std::string> split_path(const std::string& path,
                                    bool empty_is_cwd) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto colon = path.find(':', start);
    auto part = path.substr(start, colon - start);
    if (!part.empty())
      out.push_back(std::move(part));
    else if (empty_is_cwd)
      out.push_back(".");
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

std::string clean_join(const std::string& dir, const std::string& name) {
  auto joined = dir.empty() ? name : dir + "/" + name;
  bool rooted = !joined.empty() && joined[0] == '/';
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= joined.size()) {
    auto slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    auto part = joined.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.push_back(part);  // above a relative start: kept
      continue;                 // above the root: the root
    }
    parts.push_back(std::move(part));
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

protocol::path_info enumerate_executables(
    const std::vector<std::string>& dirs,
    std::vector<std::pair<std::string, int>>* unreadable) {
  protocol::path_info info;
  std::set<std::string> seen;
  for (auto& dir : dirs) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      if (unreadable && errno != ENOENT && errno != ENOTDIR)
        unreadable->emplace_back(dir, errno);
      continue;
    }
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (auto& name : names) {
      if (seen.count(name)) continue;
      auto full = clean_join(dir, name);
      struct stat st;
      if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
          (st.st_mode & 0111) == 0)
        continue;
      seen.insert(name);
      protocol::path_entry pe;
      pe.name = name;
      pe.path = full;
      pe.mode = st.st_mode & 0777;
      pe.size = st.st_size;
      pe.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                 st.st_mtim.tv_nsec;
      info.entries.push_back(std::move(pe));
    }
  }
  return info;
}

}  // namespace remex::agent
