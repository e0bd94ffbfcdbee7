// Which environment values of a request are secrets: those whose name
// matches one of a list of globs (case-insensitive). Their values reach the
// remote process but never a recording, a log or the console, which show
// "<redacted>" instead. Header only: the transport's recorder uses it.
#pragma once

#include <fnmatch.h>

#include <string>
#include <vector>

namespace remex::config {

// Always in force; remexd's secret-env setting and the CLI's --secret-env
// add to them.
inline const std::vector<std::string>& default_secret_env() {
  static const std::vector<std::string> patterns{
      "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*_KEY", "*CREDENTIAL*"};
  return patterns;
}

inline constexpr const char* redacted_value = "<redacted>";

inline bool is_secret_env(const std::string& name,
                          const std::vector<std::string>& patterns) {
  for (auto& p : patterns)
    if (::fnmatch(p.c_str(), name.c_str(), FNM_CASEFOLD) == 0) return true;
  return false;
}

// env ("K=V" entries) with the value of each secret replaced.
inline std::vector<std::string> redact_env(
    std::vector<std::string> env, const std::vector<std::string>& patterns) {
  for (auto& kv : env) {
    auto eq = kv.find('=');
    if (eq != std::string::npos && is_secret_env(kv.substr(0, eq), patterns))
      kv = kv.substr(0, eq + 1) + redacted_value;
  }
  return env;
}

}  // namespace remex::config
