#include "tools/remex-agent/env_policy.hpp"

#include <fnmatch.h>
#include <regex.h>

#include <unordered_map>

namespace remex::agent {

namespace {

// "/…/" longer than 2 characters is a regex; "//" (and anything else) is a
// glob.
bool is_regex(const std::string& p) {
  return p.size() > 2 && p.front() == '/' && p.back() == '/';
}

}  // namespace

bool env_pattern_matches(const std::string& pattern, const std::string& name) {
  if (is_regex(pattern)) {
    regex_t re;
    auto expr = pattern.substr(1, pattern.size() - 2);
    if (regcomp(&re, expr.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return false;
    bool hit = regexec(&re, name.c_str(), 0, nullptr, 0) == 0;
    regfree(&re);
    return hit;
  }
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

std::vector<std::string> bad_env_patterns(const protocol::agent_config& cfg) {
  std::vector<std::string> bad;
  for (auto* list : {&cfg.env_keep, &cfg.env_remove})
    for (auto& p : *list) {
      if (!is_regex(p)) continue;
      regex_t re;
      auto expr = p.substr(1, p.size() - 2);
      if (regcomp(&re, expr.c_str(), REG_EXTENDED | REG_NOSUB) != 0)
        bad.push_back(p);
      else
        regfree(&re);
    }
  return bad;
}

namespace {

bool any_matches(const std::vector<std::string>& patterns,
                 const std::string& name) {
  for (auto& p : patterns)
    if (env_pattern_matches(p, name)) return true;
  return false;
}

std::string key_of(const std::string& kv) {
  return kv.substr(0, kv.find('='));
}

}  // namespace

std::vector<std::string> child_environment(
    char** environ_vars, const protocol::agent_config& cfg,
    const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ_vars; e && *e; ++e) {
    std::string kv = *e;
    auto name = key_of(kv);
    if (!cfg.env_keep.empty() && !any_matches(cfg.env_keep, name)) continue;
    if (any_matches(cfg.env_remove, name)) continue;
    out.push_back(std::move(kv));
  }
  // By name, so a request with a large env (megabytes of it) is merged in
  // linear time.
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < out.size(); ++i) index.emplace(key_of(out[i]), i);
  for (auto& kv : overrides) {
    auto [it, fresh] = index.emplace(key_of(kv), out.size());
    if (fresh)
      out.push_back(kv);
    else
      out[it->second] = kv;
  }
  return out;
}

const char* env_lookup(const std::vector<std::string>& env,
                       const std::string& key) {
  for (auto& kv : env)
    if (kv.size() > key.size() && kv[key.size()] == '=' &&
        kv.compare(0, key.size(), key) == 0)
      return kv.c_str() + key.size() + 1;
  return nullptr;
}

}  // namespace remex::agent
