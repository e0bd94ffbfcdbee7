#include "config/host_groups.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "config/daemon_keys.hpp"
#include "config/daemon_settings.hpp"
#include "config/host_list.hpp"

namespace remex::config {

namespace {

bool is_reference(const std::string& item) {
  return !item.empty() && item.front() == '@';
}

// Depth-first, with the groups being expanded on `path`: one that is met
// again there includes itself.
bool expand_into(const std::string& text, const host_groups& groups,
                 std::vector<std::string>& path, std::vector<std::string>& out,
                 std::string& error) {
  for (auto& item : split_host_list(text)) {
    if (!is_reference(item)) {
      // One item at a time: its error names it, not the whole list.
      if (item.empty()) {
        error = "empty host name in '" + text + "'";
        return false;
      }
      auto hosts = expand_hosts(item, error);
      if (!error.empty()) return false;
      out.insert(out.end(), hosts.begin(), hosts.end());
    } else {
      auto name = item.substr(1);
      auto def = groups.find(name);
      if (def == groups.end()) {
        error = "unknown group '" + name + "'";
        return false;
      }
      if (std::find(path.begin(), path.end(), name) != path.end()) {
        error = "group '" + name + "' includes itself: ";
        auto from = std::find(path.begin(), path.end(), name);
        for (auto i = from; i != path.end(); ++i) error += *i + " -> ";
        error += name;
        return false;
      }
      path.push_back(name);
      if (!expand_into(def->second, groups, path, out, error)) return false;
      path.pop_back();
    }
    if (out.size() > max_listed_hosts) {
      error = "'" + text + "' expands to too many hosts";
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_group_name(std::string_view name) {
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  return !name.empty() && word(name.front()) &&
         std::all_of(name.begin(), name.end(),
                     [&](char c) { return word(c) || c == '-'; });
}

std::string check_host_list(const std::string& text) {
  for (auto& item : split_host_list(text)) {
    std::string error;
    if (is_reference(item)) {
      if (!is_group_name(item.substr(1)))
        return "bad group name '" + item.substr(1) + "'";
    } else if (item.empty()) {
      return "empty host name";
    } else if (expand_hosts(item, error); !error.empty()) {
      return error;
    }
  }
  return {};
}

std::string add_host_group(host_groups& groups, const std::string& name,
                           const caf::config_value& value) {
  if (!is_group_name(name))
    return "bad group name " + in_quotes(name) +
           ": letters, digits, '_' and '-' only";
  auto text = caf::get_if<std::string>(&value);
  if (!text)
    return "expected a host list in double quotes like \"web[01-20]\", got " +
           shown(value);
  if (auto what = check_host_list(*text); !what.empty())
    return "bad host list " + in_quotes(*text) + ": " + what;
  groups[name] = *text;
  return {};
}

std::vector<std::string> expand_host_list(const std::string& text,
                                          const host_groups& groups,
                                          std::string& error) {
  std::vector<std::string> path, hosts;
  if (!expand_into(text, groups, path, hosts, error)) return {};
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (auto& h : hosts)
    if (seen.insert(h).second) unique.push_back(h);
  return unique;
}

std::vector<std::string> expand_group(const host_groups& groups,
                                      const std::string& name,
                                      std::string& error) {
  return expand_host_list("@" + name, groups, error);
}

std::vector<std::string> expand_group_patterns(
    const std::vector<std::string>& patterns, const host_groups& groups,
    std::string& error) {
  std::vector<std::string> out;
  for (auto& p : patterns) {
    if (p.empty() || p[0] != '@') {
      out.push_back(p);
      continue;
    }
    auto hosts = expand_host_list(p, groups, error);
    if (!error.empty()) return {};
    out.insert(out.end(), hosts.begin(), hosts.end());
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> check_host_groups(
    const host_groups& groups, const std::vector<std::string>& order) {
  auto check = [&](const std::string& name)
      -> std::optional<std::pair<std::string, std::string>> {
    std::string error;
    // The group's own list first: "unknown group 'x'" is then said of the
    // group that names x.
    std::vector<std::string> path{name}, hosts;
    if (!expand_into(groups.at(name), groups, path, hosts, error))
      return std::make_pair(name, error);
    return std::nullopt;
  };
  for (auto& name : order)
    if (groups.count(name))
      if (auto bad = check(name)) return bad;
  for (auto& [name, text] : groups)
    if (auto bad = check(name)) return bad;
  return std::nullopt;
}

std::optional<host_groups> parse_hosts_file(std::string_view text,
                                            ini_problem& problem) {
  auto contents = parse_ini(text, problem);
  if (!contents) return std::nullopt;
  for (auto& g : contents->groups)
    if (g.name != "groups") {
      problem = {g.line, "unknown section [" + g.name +
                             "] (a hosts file has only [groups])"};
      return std::nullopt;
    }
  host_groups groups;
  std::vector<std::string> order;
  std::map<std::string, int> lines;
  for (auto& e : contents->entries) {
    if (e.key.rfind("groups.", 0) != 0) {
      problem = {e.line, "'" + e.key + "' outside [groups]"};
      return std::nullopt;
    }
    auto name = e.key.substr(7);
    if (auto what = add_host_group(groups, name, e.value); !what.empty()) {
      problem = {e.line, e.key + ": " + what};
      return std::nullopt;
    }
    order.push_back(name);
    lines[name] = e.line;
  }
  if (auto bad = check_host_groups(groups, order)) {
    problem = {lines[bad->first], "groups." + bad->first + ": " + bad->second};
    return std::nullopt;
  }
  return groups;
}

std::string default_hosts_file() {
  if (const char* f = std::getenv("REMEX_HOSTS_FILE"); f && *f) return f;
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  if (const char* c = std::getenv("XDG_CONFIG_HOME"); c && *c == '/')
    return std::string{c} + "/remex/hosts.ini";
  return home_directory() + "/.config/remex/hosts.ini";
}

std::optional<host_groups> read_hosts_file(const std::string& path, bool& found,
                                           std::string& error) {
  std::string text;
  found = true;
  if (int err = read_text_file(path, text)) {
    if (err == ENOENT) {
      found = false;
      return host_groups{};
    }
    error = path + ": cannot read: " + std::strerror(err);
    return std::nullopt;
  }
  ini_problem problem;
  auto groups = parse_hosts_file(text, problem);
  if (!groups)
    error = path +
            (problem.line > 0 ? ":" + std::to_string(problem.line) : "") +
            ": " + problem.what;
  return groups;
}

}  // namespace remex::config
