// Which of the agent's own environment variables the command inherits.
#pragma once

#include <string>
#include <vector>

#include "protocol/frame.hpp"

namespace remex::agent {

// True when name matches pattern: a glob (fnmatch), or a POSIX extended
// regex (unanchored search) when written between slashes and longer than 2
// characters ("/^LC_/"; "//" is a glob). A bad regex matches nothing.
bool env_pattern_matches(const std::string& pattern, const std::string& name);

// Patterns in cfg whose regex does not compile (they match nothing), so the
// agent can say so instead of silently keeping or passing variables.
std::vector<std::string> bad_env_patterns(const protocol::agent_config& cfg);

// environ filtered by cfg (keep first: when env_keep is non-empty only
// matching names stay; then env_remove drops), then overrides ("K=V") on top:
// the request wins.
std::vector<std::string> child_environment(
    char** environ_vars, const protocol::agent_config& cfg,
    const std::vector<std::string>& overrides);

// The value of key in a "K=V" list, or nullptr.
const char* env_lookup(const std::vector<std::string>& env,
                       const std::string& key);

}  // namespace remex::agent
