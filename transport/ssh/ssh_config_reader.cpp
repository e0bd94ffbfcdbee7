#include "transport/ssh/ssh_config_reader.hpp"

#include <fnmatch.h>
#include <glob.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace remex::transport {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string home_dir() {
  if (auto* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  if (auto* h = std::getenv("HOME")) return h;
  return "/";
}

std::string local_user() {
  if (auto* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  return {};
}

// The words of an ssh_config line after its keyword; "double quotes" group.
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, in_word = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

// ssh_config pattern lists: "a*,!b?" (commas) or Host's words. A negated
// match rules the name out; otherwise any positive match lets it in.
bool matches_list(const std::vector<std::string>& patterns,
                  const std::string& name) {
  bool hit = false;
  auto n = lower(name);
  for (auto& p : patterns) {
    bool negated = !p.empty() && p[0] == '!';
    auto pat = lower(negated ? p.substr(1) : p);
    if (::fnmatch(pat.c_str(), n.c_str(), 0) == 0) {
      if (negated) return false;
      hit = true;
    }
  }
  return hit;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

// What the user's ssh_config says about one keyword for one host, read the
// way OpenSSH reads it: -F FILE alone, else ~/.ssh/config then
// /etc/ssh/ssh_config; the first value obtained wins; Host and Match blocks,
// Include. A Match criterion it
// cannot evaluate here (exec, canonical, final, localnetwork, tagged) makes
// the block not apply: the stricter reading.
class config_lookup {
 public:
  config_lookup(std::string keyword, std::string host, std::string user)
      : keyword_(lower(std::move(keyword))),
        host_(std::move(host)),
        user_(std::move(user)) {
    if (user_.empty()) user_ = local_user();
  }

  // nullopt when no file sets it.
  std::optional<std::string> read(const std::string& config_file) {
    auto ssh_dir = home_dir() + "/.ssh";
    if (!config_file.empty()) {
      read_file(config_file, ssh_dir, 0);
    } else {
      read_file(ssh_dir + "/config", ssh_dir, 0);
      read_file("/etc/ssh/ssh_config", "/etc/ssh", 0);
    }
    return value_;
  }

 private:
  bool match_applies(const std::vector<std::string>& w) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      auto crit = lower(w[i]);
      bool negated = !crit.empty() && crit[0] == '!';
      if (negated) crit.erase(0, 1);
      bool result;
      if (crit == "all") {
        result = true;
      } else if ((crit == "host" || crit == "originalhost" || crit == "user" ||
                  crit == "localuser") &&
                 i + 1 < w.size()) {
        auto& name = crit == "user"        ? user_
                     : crit == "localuser" ? local_user_
                                           : host_;
        result = matches_list(split_commas(w[++i]), name);
      } else {
        return false;
      }
      if (result == negated) return false;
    }
    return true;
  }

  void read_file(const std::string& file, const std::string& base, int depth) {
    std::ifstream in{file};
    if (!in || depth > 16) return;
    bool active = true;
    std::string line;
    while (std::getline(in, line)) {
      auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      auto end = line.find_first_of(" \t=", start);
      auto keyword = lower(line.substr(start, end - start));
      std::string rest = end == std::string::npos ? "" : line.substr(end);
      auto arg = rest.find_first_not_of(" \t");
      if (arg != std::string::npos && rest[arg] == '=') ++arg;
      auto w = words(arg == std::string::npos ? "" : rest.substr(arg));
      if (keyword == "host") {
        active = matches_list(w, host_);
      } else if (keyword == "match") {
        active = match_applies(w);
      } else if (!active) {
        continue;
      } else if (keyword == "include") {
        for (auto& pattern : w) include(pattern, base, depth);
      } else if (keyword == keyword_ && !value_ && !w.empty()) {
        value_ = lower(w[0]);
      }
    }
  }

  void include(std::string pattern, const std::string& base, int depth) {
    if (pattern.rfind("~/", 0) == 0)
      pattern = home_dir() + pattern.substr(1);
    else if (pattern.empty() || pattern[0] != '/')
      pattern = base + "/" + pattern;
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        read_file(g.gl_pathv[i], base, depth + 1);
    ::globfree(&g);
  }

  std::string keyword_, host_, user_, local_user_ = local_user();
  std::optional<std::string> value_;
};

}  // namespace

std::optional<std::string> strict_host_key_checking(
    const std::string& host, const std::string& user,
    const std::string& config_file) {
  return config_lookup("StrictHostKeyChecking", host, user).read(config_file);
}

std::optional<std::string> configured_ciphers(const std::string& host,
                                              const std::string& user,
                                              const std::string& config_file) {
  return ssh_config_value(host, user, config_file, "Ciphers");
}

std::optional<std::string> ssh_config_value(const std::string& host,
                                            const std::string& user,
                                            const std::string& config_file,
                                            const std::string& keyword) {
  return config_lookup(keyword, host, user).read(config_file);
}

}  // namespace remex::transport
